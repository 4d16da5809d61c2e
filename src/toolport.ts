// A running toolport: plugins loaded through their adapters, a registry of exposed
// tools, and the call pipeline: lookup → argument check → policy (deny, grants, ask →
// approval chain) → plugin call with a signal → result check → audit record.
// Transports and the CLI sit on top of this.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapters } from './adapters/index.js';
import { detectPlugins } from './adapters/detect.js';
import type { AdapterContext, LoadedPlugin, PluginSpec } from './adapters/types.js';
import { formatZodIssues } from './config/load.js';
import type { Config } from './config/schema.js';
import { createCallSignal } from './core/call-signal.js';
import { ErrorCode, ToolportError, describeThrown, isToolportError } from './core/errors.js';
import { createSilentLogger, type Logger } from './core/logger.js';
import { createSecretSet, type SecretSet } from './core/redact.js';
import { createRegistry, type Diagnostic, type ExposedTool, type RegisteredPlugin, type Registry } from './core/registry.js';
import { createSchemaCompiler, formatSchemaErrors } from './core/schema.js';
import { isPlainObject, type CallContext, type CallOptions, type ToolOutcome } from './core/tool.js';
import { createApprovalChain, InputRequiredSignal, type ApprovalAnswer, type ApprovalChannel } from './policy/approvals.js';
import { createAuditLog, type AuditLog, type AuditRecord } from './policy/audit.js';
import { compilePolicy, decide, describeRule, ruleMatchesAny, type CompiledPolicy, type Decision } from './policy/decide.js';
import { callDigest } from './policy/digest.js';
import { missingGrants } from './policy/grants.js';
import { createApprovalInbox, type ApprovalInbox } from './policy/inbox.js';

export interface ToolportOptions {
  logger?: Logger;
  /** Where adapters keep caches and state. Default: a `toolport` folder in the OS temp dir. */
  stateDir?: string;
  /** Secret values to scrub from logs and audit records; config secrets are added to it. */
  secrets?: SecretSet;
}

export interface ToolCallOptions {
  signal?: AbortSignal;
  progress?: CallOptions['progress'];
  log?: CallOptions['log'];
  client?: CallOptions['client'];
  /** How this call's client can be asked for approval. */
  approval?: ApprovalChannel;
  context?: Partial<CallContext>;
}

export interface PolicyExplanation {
  tool: string;
  decision: Decision;
  missingGrants: string[];
}

export interface Toolport {
  readonly config: Config;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly secrets: SecretSet;
  /** The out-of-band approval inbox, when `approvals.admin` is configured. */
  readonly inbox: ApprovalInbox | undefined;
  /** Plugins that failed to load, collisions, disabled tools, rules that match nothing. */
  readonly diagnostics: readonly Diagnostic[];
  /** Tools as this principal's clients see them, in tools/list order (denied tools hidden). */
  listTools(principal?: string): readonly ExposedTool[];
  /**
   * Runs one call through the pipeline. Resolves with what the plugin answered;
   * rejects with a ToolportError when there was no answer (unknown tool, bad
   * arguments, denied or rejected, timeout, cancellation, crash).
   */
  call(name: string, args: unknown, options?: ToolCallOptions): Promise<ToolOutcome>;
  /** The policy decision for a call, without running it. */
  explain(name: string, args: unknown, principal?: string): PolicyExplanation;
  /** Listens for changes of the tool list. Returns the unsubscribe function. */
  onToolsChanged(listener: () => void): () => void;
  /** Tells the approval chain a session ended (its "for this session" approvals go). */
  endSession(sessionKey: string): void;
  /** Stops in-flight calls and closes every plugin. Idempotent. */
  close(): Promise<void>;
}

const noop = (): void => {};

/** Secrets the config holds: tokens, plugin secrets, and values of granted env variables. */
function collectSecrets(config: Config, secrets: SecretSet): void {
  for (const token of config.server.http.auth.tokens) secrets.add(typeof token === 'string' ? token : token.token);
  secrets.add(config.approvals.admin?.token);
  for (const plugin of config.plugins) {
    for (const key of ['secretToken', 'relationshipToken'] as const) {
      const value = (plugin as Record<string, unknown>)[key];
      if (typeof value === 'string') secrets.add(value);
    }
    const env = (plugin as { grants?: { env?: unknown } }).grants?.env;
    if (Array.isArray(env)) for (const name of env) if (typeof name === 'string') secrets.add(process.env[name]);
  }
}

function outcomeOf(error: unknown, rejected: boolean): string {
  if (error instanceof InputRequiredSignal) return 'input_required';
  if (!isToolportError(error)) return 'failed';
  switch (error.code) {
    case ErrorCode.CallDenied:
      return rejected ? 'rejected' : 'denied';
    case ErrorCode.CallTimeout:
      return 'timeout';
    case ErrorCode.CallCancelled:
      return 'cancelled';
    case ErrorCode.ArgumentsInvalid:
      return 'invalid_arguments';
    case ErrorCode.ToolNotFound:
      return 'unknown_tool';
    case ErrorCode.ShuttingDown:
      return 'shutdown';
    default:
      return 'failed';
  }
}

export async function createToolport(config: Config, options: ToolportOptions = {}): Promise<Toolport> {
  const logger = options.logger ?? createSilentLogger();
  const secrets = options.secrets ?? createSecretSet();
  collectSecrets(config, secrets);
  const stateDir = options.stateDir ?? join(tmpdir(), 'toolport');
  const compiler = createSchemaCompiler();
  const registry = createRegistry({ naming: config.naming, compiler, logger });
  const policy: CompiledPolicy = compilePolicy(config.policy);
  const inbox = config.approvals.admin ? createApprovalInbox() : undefined;
  const approvals = createApprovalChain({ inbox, timeoutMs: config.approvals.timeoutSeconds * 1000 });
  const audit: AuditLog | undefined = config.audit
    ? createAuditLog(config.audit.path, { includeArguments: config.audit.includeArguments, secrets })
    : undefined;
  const shutdown = new AbortController();
  const loadDiagnostics: Diagnostic[] = [];
  const registered: RegisteredPlugin[] = [];

  let refreshQueued = false;
  const toolsChanged = (): void => {
    if (refreshQueued || shutdown.signal.aborted) return;
    refreshQueued = true;
    queueMicrotask(() => {
      refreshQueued = false;
      registry.refresh();
    });
  };

  const { plugins: detected, problems } = await detectPlugins(config.plugins);
  for (const problem of problems) {
    loadDiagnostics.push({ level: 'error', message: `plugins[${problem.index}] ${problem.path}: ${problem.message}` });
  }

  const loads = detected.map(async ({ entry, index }): Promise<RegisteredPlugin | undefined> => {
    const where = `plugins[${index}] ${entry.path}`;
    const table = adapters[entry.kind];
    if ('unavailable' in table) {
      loadDiagnostics.push({ level: 'error', message: `${where}: ${table.unavailable}` });
      return undefined;
    }
    const parsed = table.adapter.spec.safeParse(entry);
    if (!parsed.success) {
      const lines = formatZodIssues(parsed.error.issues, ['plugins', index]);
      loadDiagnostics.push({ level: 'error', message: `${where}: invalid plugin config:\n  ${lines.join('\n  ')}` });
      return undefined;
    }
    const spec: PluginSpec = parsed.data;
    const context: AdapterContext = {
      baseDir: process.cwd(),
      logger,
      stateDir,
      toolsChanged,
      defaultTimeoutSeconds: config.defaults.timeoutSeconds,
    };
    let plugin: LoadedPlugin;
    try {
      plugin = await table.adapter.load(spec, context);
    } catch (error) {
      const message = isToolportError(error) ? error.shortMessage : describeThrown(error);
      logger.debug({ err: error, plugin: entry.path }, 'plugin failed to load');
      loadDiagnostics.push({ level: 'error', message: `${where}: ${message}` });
      return undefined;
    }
    const timeoutSeconds = spec.timeoutSeconds ?? config.defaults.timeoutSeconds;
    const id = spec.id ?? plugin.id;
    for (const diagnostic of plugin.diagnostics ?? []) {
      loadDiagnostics.push({
        level: diagnostic.level,
        message: `${where}: ${diagnostic.message}`,
        pluginId: id,
        ...(diagnostic.tool !== undefined && { tool: diagnostic.tool }),
      });
    }
    return {
      id,
      plugin,
      timeoutMs: timeoutSeconds * 1000,
      source: entry.path,
      grants: spec.grants,
      configPath: `plugins[${index}]`,
    };
  });
  for (const result of await Promise.all(loads)) if (result) registered.push(result);
  registry.setPlugins(registered);
  for (const diagnostic of loadDiagnostics) {
    if (diagnostic.level === 'error') logger.error(diagnostic.message);
    else if (diagnostic.level === 'warning') logger.warn(diagnostic.message);
    else logger.info(diagnostic.message);
  }

  const policyDiagnostics = (): Diagnostic[] => {
    const tools = registry.tools.map((tool) => ({ tool: tool.name, plugin: tool.plugin.id, kind: tool.kind, sideEffects: false }));
    return config.policy.rules.flatMap((rule, index) =>
      ruleMatchesAny(policy, index, tools) ? [] : [{ level: 'warning' as const, message: `${describeRule(rule, index)} matches no tool` }],
    );
  };
  for (const diagnostic of policyDiagnostics()) logger.warn(diagnostic.message);
  logger.info({ plugins: registered.length, tools: registry.tools.length }, 'plugins loaded');

  const sideEffectsOf = (tool: ExposedTool): boolean =>
    tool.definition.sideEffects === true ||
    (tool.definition.annotations?.destructiveHint === true && tool.definition.annotations.readOnlyHint !== true);

  const decideFor = (tool: ExposedTool, principal: string, args: Record<string, unknown> | undefined): Decision =>
    decide(policy, { tool: tool.name, plugin: tool.plugin.id, kind: tool.kind, principal, args, sideEffects: sideEffectsOf(tool) });

  let closing: Promise<void> | undefined;

  async function call(name: string, args: unknown, callOptions: ToolCallOptions = {}): Promise<ToolOutcome> {
    const started = performance.now();
    const context: CallContext = {
      callId: callOptions.context?.callId ?? randomUUID(),
      principal: callOptions.context?.principal ?? 'local',
      ...(callOptions.context?.sessionId !== undefined && { sessionId: callOptions.context.sessionId }),
      ...(callOptions.context?.client !== undefined && { client: callOptions.context.client }),
    };
    const tool = registry.get(name);
    let decision: Decision | undefined;
    let answer: ApprovalAnswer | undefined;
    let outcome: ToolOutcome | undefined;
    let failure: unknown;
    try {
      outcome = await run(name, tool, args, context, callOptions, (d) => (decision = d), (a) => (answer = a));
      return outcome;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      if (audit) {
        const record: AuditRecord = {
          time: new Date().toISOString(),
          callId: context.callId,
          session: context.sessionId ?? callOptions.approval?.sessionKey,
          principal: context.principal,
          client: context.client ? `${context.client.name}/${context.client.version}` : undefined,
          tool: name,
          plugin: tool?.plugin.id,
          argsDigest: callDigest(name, args),
          ...(audit.includeArguments && { args }),
          decision: decision?.action,
          rule: decision?.because,
          approver: answer?.approver,
          channel: answer?.channel,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          outcome: failure === undefined ? (outcome?.isError ? 'error' : 'ok') : outcomeOf(failure, answer !== undefined && !answer.approved),
          ...(failure !== undefined && { message: isToolportError(failure) ? failure.shortMessage : describeThrown(failure) }),
        };
        await audit.write(record).catch((error: unknown) => logger.error({ err: error }, 'could not write the audit record'));
      }
    }
  }

  async function run(
    name: string,
    tool: ExposedTool | undefined,
    args: unknown,
    context: CallContext,
    callOptions: ToolCallOptions,
    onDecision: (decision: Decision) => void,
    onAnswer: (answer: ApprovalAnswer) => void,
  ): Promise<ToolOutcome> {
    if (shutdown.signal.aborted) {
      throw new ToolportError(ErrorCode.ShuttingDown, `${name} was not run: the server is shutting down`);
    }
    if (!tool) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${name}`);
    const pluginId = tool.plugin.id;
    const input = args ?? {};
    if (!isPlainObject(input) || !tool.validateInput(input)) {
      const why = isPlainObject(input) ? formatSchemaErrors(tool.validateInput.errors) : '(arguments): must be an object';
      throw new ToolportError(ErrorCode.ArgumentsInvalid, `Invalid arguments for ${name}: ${why}`, { pluginId });
    }

    const decision = decideFor(tool, context.principal, input);
    onDecision(decision);
    if (decision.action === 'deny') {
      throw new ToolportError(
        ErrorCode.CallDenied,
        `${name} is not allowed: ${decision.reason ?? `denied by ${decision.because}`}. Do not retry it; tell the user or take another route.`,
        { pluginId },
      );
    }
    const declared = tool.definition.permissions ?? [];
    const missing = missingGrants(declared, tool.plugin.grants, tool.plugin.configPath);
    if (missing.length > 0) {
      throw new ToolportError(
        ErrorCode.CallDenied,
        `${name} was refused: plugin "${pluginId}" declares ${missing.map((m) => m.declared).join(', ')}, which the config does not grant ` +
          `(to allow it, set ${missing.map((m) => m.configLine).join(' and ')})`,
        { pluginId },
      );
    }
    if (decision.action === 'ask') {
      const waiting = createCallSignal({
        client: callOptions.signal,
        shutdown: shutdown.signal,
        // The inbox has its own deadline; this bounds a prompt a client never answers.
        timeoutMs: config.approvals.timeoutSeconds * 1000 + 1000,
        label: name,
        pluginId,
        timeoutMessage: `${name} was not run: nobody answered the approval prompt within ${config.approvals.timeoutSeconds} s`,
      });
      let answer: ApprovalAnswer;
      try {
        answer = await Promise.race([
          approvals.approve(
            {
              tool: name,
              plugin: pluginId,
              kind: tool.kind,
              principal: context.principal,
              sessionKey: callOptions.approval?.sessionKey,
              args: input,
              permissions: declared,
              digest: callDigest(name, input),
              because: decision.because,
            },
            callOptions.approval ?? {},
            { signal: waiting.signal, progress: callOptions.progress ?? noop },
          ),
          waiting.aborted,
        ]);
      } finally {
        waiting.dispose();
      }
      onAnswer(answer);
      if (!answer.approved) {
        throw new ToolportError(ErrorCode.CallDenied, `${name} was not run: ${answer.reason}`, { pluginId });
      }
      logger.info({ tool: name, approver: answer.approver, channel: answer.channel, scope: answer.scope }, 'call approved');
    }
    return runPlugin(name, tool, input, context, callOptions);
  }

  async function runPlugin(
    name: string,
    tool: ExposedTool,
    input: Record<string, unknown>,
    context: CallContext,
    callOptions: ToolCallOptions,
  ): Promise<ToolOutcome> {
    const callSignal = createCallSignal({
      client: callOptions.signal,
      shutdown: shutdown.signal,
      timeoutMs: tool.definition.timeoutSeconds !== undefined ? tool.definition.timeoutSeconds * 1000 : tool.plugin.timeoutMs,
      label: name,
      pluginId: tool.plugin.id,
    });
    const started = performance.now();
    try {
      const outcome = await Promise.race([
        tool.plugin.plugin.call(tool.definition.name, input, {
          signal: callSignal.signal,
          progress: callOptions.progress ?? noop,
          log: callOptions.log ?? noop,
          client: callOptions.client ?? {},
          context,
        }),
        callSignal.aborted,
      ]);
      checkOutcome(tool, outcome);
      logger.debug({ tool: name, callId: context.callId, ms: performance.now() - started, isError: outcome.isError === true }, 'call done');
      return outcome;
    } catch (error) {
      const failure = isToolportError(error)
        ? error
        : new ToolportError(ErrorCode.PluginCrashed, `${name} failed: the plugin could not answer; see the server log`, {
            cause: error,
            pluginId: tool.plugin.id,
          });
      const expected = failure.code === ErrorCode.CallCancelled || failure.code === ErrorCode.ShuttingDown;
      if (expected) logger.debug({ tool: name, callId: context.callId, code: failure.code }, failure.shortMessage);
      else logger.warn({ tool: name, callId: context.callId, code: failure.code, err: error }, failure.shortMessage);
      throw failure;
    } finally {
      callSignal.dispose();
    }
  }

  function checkOutcome(tool: ExposedTool, outcome: ToolOutcome): void {
    const bad = (why: string): ToolportError =>
      new ToolportError(ErrorCode.PluginBadOutput, `${tool.name} returned ${why}`, { pluginId: tool.plugin.id });
    if (!isPlainObject(outcome) || !Array.isArray(outcome.content)) throw bad('no content');
    if (outcome.isError || !tool.validateOutput) return;
    if (outcome.structuredContent === undefined) throw bad('no structured data, but it declares an output schema');
    if (!tool.validateOutput(outcome.structuredContent)) {
      throw bad(`data that does not match its output schema: ${formatSchemaErrors(tool.validateOutput.errors)}`);
    }
  }

  return {
    config,
    registry,
    logger,
    secrets,
    inbox,
    get diagnostics() {
      return [...loadDiagnostics, ...registry.diagnostics, ...policyDiagnostics()];
    },
    listTools(principal) {
      // The same decision as the call path, on the final name: unconditional denials hide the tool.
      return registry.tools.filter((tool) => decideFor(tool, principal ?? 'local', undefined).action !== 'deny');
    },
    call,
    explain(name, args, principal = 'local') {
      const tool = registry.get(name);
      if (!tool) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${name}`);
      const input = isPlainObject(args) ? args : {};
      return {
        tool: name,
        decision: decideFor(tool, principal, input),
        missingGrants: missingGrants(tool.definition.permissions ?? [], tool.plugin.grants, tool.plugin.configPath).map(
          (missing) => `${missing.declared} (set ${missing.configLine})`,
        ),
      };
    },
    onToolsChanged: (listener) => registry.onChange(listener),
    endSession: (sessionKey) => approvals.forgetSession(sessionKey),
    close() {
      closing ??= (async () => {
        shutdown.abort();
        const results = await Promise.allSettled(registered.map((entry) => entry.plugin.close()));
        for (const [index, result] of results.entries()) {
          if (result.status === 'rejected') logger.warn({ err: result.reason, plugin: registered[index]?.id }, 'plugin close failed');
        }
      })();
      return closing;
    },
  };
}
