// A running toolport: plugins loaded through their adapters, a registry of exposed
// tools, and the call pipeline: lookup → argument check → policy (deny, grants, ask →
// approval chain) → rate limits → tool_call hooks → plugin call with a signal → result
// check → tool_result hooks → audit record. Transports and the CLI sit on top of this.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapters } from './adapters/index.js';
import { detectPlugins } from './adapters/detect.js';
import type { AdapterContext, LoadedPlugin, PluginSpec } from './adapters/types.js';
import { formatZodIssues } from './config/load.js';
import type { Config } from './config/schema.js';
import { createCallSignal } from './core/call-signal.js';
import { ErrorCode, ToolportError, describeThrown, isToolportError } from './core/errors.js';
import { createHostPlugin, type HostPlugin, type HostTool } from './core/host-tools.js';
import { createSilentLogger, type Logger } from './core/logger.js';
import { createSecretSet, type SecretSet } from './core/redact.js';
import { toExposedPrompts, type ExposedPrompt, type PromptOutcome, type SessionInfo } from './core/prompt.js';
import { createRegistry, type Diagnostic, type ExposedTool, type RegisteredPlugin, type Registry } from './core/registry.js';
import { createSchemaCompiler, formatSchemaErrors } from './core/schema.js';
import { isPlainObject, type CallContext, type CallOptions, type ToolOutcome } from './core/tool.js';
import { createApprovalChain, InputRequiredSignal, type ApprovalAnswer, type ApprovalChannel } from './policy/approvals.js';
import { createAuditLog, type AuditLog, type AuditRecord } from './policy/audit.js';
import { compilePolicy, decide, describeRule, ruleMatchesAny, type CompiledPolicy, type Decision } from './policy/decide.js';
import { callDigest } from './policy/digest.js';
import { missingGrants } from './policy/grants.js';
import { createMqttEventStream, type EventStream } from './policy/event-stream.js';
import { loadHookModules } from './policy/hook-modules.js';
import { createHookBus, type CallEventBase, type HookBus } from './policy/hooks.js';
import { createApprovalInbox, type ApprovalInbox } from './policy/inbox.js';
import { createRateLimiter, unmatchedLimits } from './policy/rate-limits.js';

export interface ToolportOptions {
  /** The config file's folder: relative paths in plugin blocks resolve against it. Default: the working directory. */
  baseDir?: string;
  logger?: Logger;
  /** Where adapters keep caches and state. Default: a `toolport` folder in the OS temp dir. */
  stateDir?: string;
  /** Secret values to scrub from logs and audit records; config secrets are added to it. */
  secrets?: SecretSet;
  /** Publish events to `events.mqtt` when configured. Default true; one-shot commands turn it off. */
  publishEvents?: boolean;
}

export interface RegisterToolOptions {
  /** The plugin id the tool belongs to (its prefix under the default naming). Default `host`. */
  plugin?: string;
}

export interface ToolCallOptions {
  signal?: AbortSignal;
  progress?: CallOptions['progress'];
  log?: CallOptions['log'];
  client?: CallOptions['client'];
  /** How this call's client can be asked for approval. */
  approval?: ApprovalChannel;
  /** The session or long-lived connection the call came over, for events and the audit log. */
  session?: string | undefined;
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
  /** Prompts as clients see them, in prompts/list order. */
  listPrompts(): readonly ExposedPrompt[];
  /** Renders a prompt; rejects with a ToolportError (ToolNotFound for an unknown name). */
  getPrompt(name: string, args: Record<string, string>, options?: ToolCallOptions): Promise<PromptOutcome>;
  /** The server instructions for one client session: what each plugin contributes, joined. */
  instructionsFor(session: SessionInfo, signal?: AbortSignal): Promise<string | undefined>;
  /** Listens for changes of the tool list. Returns the unsubscribe function. */
  onToolsChanged(listener: () => void): () => void;
  /** Tells the approval chain a session ended (its "for this session" approvals go). */
  endSession(sessionKey: string): void;
  /** The event hooks: subscribe with `on`; transports report sessions through `notify`. */
  readonly hooks: HookBus;
  /** Subscribes a handler to an event (tool_call, tool_result, tool_error, message, session_start, session_end, list_changed). */
  on: HookBus['on'];
  /** Adds a tool served through the same pipeline as plugin tools. Returns the function that removes it. */
  registerTool(tool: HostTool, options?: RegisterToolOptions): () => void;
  /** Stops in-flight calls and closes every plugin. Idempotent. */
  close(): Promise<void>;
}

const noop = (): void => {};
/** A plugin that takes longer than this for its share of the instructions is left out. */
const instructionsTimeoutMs = 5_000;

/** Secrets the config holds: tokens, plugin secrets, and values of granted env variables. */
function collectSecrets(config: Config, secrets: SecretSet): void {
  for (const token of config.server.http.auth.tokens) secrets.add(typeof token === 'string' ? token : token.token);
  secrets.add(config.approvals.admin?.token);
  secrets.add(config.events.mqtt?.password);
  for (const plugin of config.plugins) {
    for (const key of ['secretToken', 'relationshipToken'] as const) {
      const value = (plugin as Record<string, unknown>)[key];
      if (typeof value === 'string') secrets.add(value);
    }
    const env = (plugin as { grants?: { env?: unknown } }).grants?.env;
    if (Array.isArray(env)) for (const name of env) if (typeof name === 'string') secrets.add(process.env[name]);
  }
}

/** The call's context with defaults: a fresh call id, and `local` for in-process callers. */
function toCallContext(callOptions: ToolCallOptions): CallContext {
  const given = callOptions.context;
  return {
    callId: given?.callId ?? randomUUID(),
    principal: given?.principal ?? 'local',
    ...(given?.sessionId !== undefined && { sessionId: given.sessionId }),
    ...(given?.client !== undefined && { client: given.client }),
  };
}

function outcomeOf(error: unknown, rejected: boolean): string {
  if (error instanceof InputRequiredSignal) return 'input_required';
  if (!isToolportError(error)) return 'failed';
  switch (error.code) {
    case ErrorCode.CallDenied:
      return rejected ? 'rejected' : 'denied';
    case ErrorCode.CallBlocked:
      return 'blocked';
    case ErrorCode.RateLimited:
      return 'rate_limited';
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
  // Every call in flight listens on the shutdown signal (and removes itself when done).
  setMaxListeners(0, shutdown.signal);
  const loadDiagnostics: Diagnostic[] = [];
  const registered: RegisteredPlugin[] = [];
  const hooks = createHookBus({ logger, secrets });
  const limiter = createRateLimiter(config.limits);
  // Tools registered in code: one in-process plugin per registering party.
  const hostPlugins = new Map<string, { plugin: HostPlugin; entry: RegisteredPlugin }>();
  let registryReady = false;
  const syncRegistry = (): void => {
    if (registryReady) registry.setPlugins([...registered, ...[...hostPlugins.values()].map((host) => host.entry)]);
  };
  const hostPluginFor = (id: string, configPath: string): HostPlugin => {
    const existing = hostPlugins.get(id);
    if (existing) return existing.plugin;
    const plugin = createHostPlugin(id, syncRegistry);
    const entry: RegisteredPlugin = {
      id,
      plugin,
      timeoutMs: config.defaults.timeoutSeconds * 1000,
      source: configPath,
      grants: { env: [], files: {}, network: false, permissions: [] },
      configPath,
    };
    hostPlugins.set(id, { plugin, entry });
    return plugin;
  };
  const registerTool = (tool: HostTool, id: string, configPath: string): (() => void) => {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new TypeError(`registerTool: plugin id "${id}" must be 1-32 letters, digits, _ or -`);
    if (registered.some((entry) => entry.id === id)) throw new TypeError(`registerTool: "${id}" is the id of a loaded plugin; pick another`);
    return hostPluginFor(id, configPath).add(tool);
  };

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
    const adapter = await table.load();
    const parsed = adapter.spec.safeParse(entry);
    if (!parsed.success) {
      const lines = formatZodIssues(parsed.error.issues, ['plugins', index]);
      loadDiagnostics.push({ level: 'error', message: `${where}: invalid plugin config:\n  ${lines.join('\n  ')}` });
      return undefined;
    }
    const spec: PluginSpec = parsed.data;
    const context: AdapterContext = {
      baseDir: options.baseDir ?? process.cwd(),
      logger,
      stateDir,
      toolsChanged,
      defaultTimeoutSeconds: config.defaults.timeoutSeconds,
    };
    let plugin: LoadedPlugin;
    try {
      plugin = await adapter.load(spec, context);
    } catch (error) {
      const raw = isToolportError(error) ? error.shortMessage : describeThrown(error);
      // Adapters name the file in their messages for direct use; here `where` already does.
      const message = raw.startsWith(`${entry.path}: `) ? raw.slice(entry.path.length + 2) : raw;
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
  try {
    await loadHookModules(config.hooks, {
      bus: hooks,
      logger,
      serverName: config.server.name,
      registerTool: (id, tool) => registerTool(tool, id, `hooks (${id})`),
    });
  } catch (error) {
    // Without its hooks the server would run unguarded: close what was loaded and refuse to start.
    await Promise.allSettled(registered.map((entry) => entry.plugin.close()));
    throw error;
  }
  registryReady = true;
  syncRegistry();
  registry.onChange(() => hooks.notify({ type: 'list_changed', time: new Date().toISOString(), tools: registry.tools.map((tool) => tool.name) }));
  let events: EventStream | undefined;
  if (config.events.mqtt && options.publishEvents !== false) {
    events = await createMqttEventStream(config.events.mqtt, { bus: hooks, secrets, logger, serverName: config.server.name });
  }
  for (const diagnostic of loadDiagnostics) {
    if (diagnostic.level === 'error') logger.error(diagnostic.message);
    else if (diagnostic.level === 'warning') logger.warn(diagnostic.message);
    else logger.info(diagnostic.message);
  }

  const policyDiagnostics = (): Diagnostic[] => {
    const tools = registry.tools.map((tool) => ({ tool: tool.name, plugin: tool.plugin.id, kind: tool.kind, sideEffects: false }));
    const rules = config.policy.rules.flatMap((rule, index) =>
      ruleMatchesAny(policy, index, tools) ? [] : [{ level: 'warning' as const, message: `${describeRule(rule, index)} matches no tool` }],
    );
    const limits = unmatchedLimits(config.limits, tools).map((message) => ({ level: 'warning' as const, message }));
    return [...rules, ...limits];
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
    const context = toCallContext(callOptions);
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
      if (failure !== undefined && !(failure instanceof InputRequiredSignal) && hooks.wants('tool_error')) {
        hooks.notify({
          type: 'tool_error',
          ...eventBase(name, tool?.plugin.id, context, callOptions),
          code: isToolportError(failure) ? failure.code : 'INTERNAL',
          message: isToolportError(failure) ? failure.shortMessage : describeThrown(failure),
          durationMs: Math.round((performance.now() - started) * 10) / 10,
        });
      }
      if (audit) {
        const record: AuditRecord = {
          time: new Date().toISOString(),
          callId: context.callId,
          session: callOptions.session ?? context.sessionId ?? callOptions.approval?.sessionKey,
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
    // A call the limits would refuse now is refused before anyone is asked to approve it.
    limiter.check({ tool: name, plugin: pluginId, principal: context.principal });
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
    // Tokens are taken after approval, so a call someone rejected spends nothing, and before the
    // hooks, so tool_call handlers see only calls the limits let through.
    const release = limiter.acquire({ tool: name, plugin: pluginId, principal: context.principal });
    // Events are built only when a hook or the event stream will see them (the hot path has none).
    const base = hooks.wants('tool_call') || hooks.wants('tool_result') ? eventBase(name, pluginId, context, callOptions) : undefined;
    let outcome: ToolOutcome;
    const started = performance.now();
    try {
      if (base) await hooks.runToolCall({ type: 'tool_call', ...base, arguments: input });
      outcome = await runPlugin(name, tool, input, context, callOptions);
    } finally {
      release();
    }
    if (!base) return outcome;
    const edited = hooks.has('tool_result');
    const final = await hooks.runToolResult({ type: 'tool_result', ...base, result: outcome, durationMs: Math.round((performance.now() - started) * 10) / 10 });
    // A hook may have changed structured data; it must still match the tool's output schema.
    if (edited) checkOutcome(tool, final, 'after a tool_result hook');
    return final;
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
          log: (level, data) => {
            if (hooks.wants('message')) hooks.notify({ type: 'message', ...eventBase(name, tool.plugin.id, context, callOptions), level, data });
            (callOptions.log ?? noop)(level, data);
          },
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

  function checkOutcome(tool: ExposedTool, outcome: ToolOutcome, when?: string): void {
    const bad = (why: string): ToolportError =>
      new ToolportError(ErrorCode.PluginBadOutput, `${tool.name} returned ${why}${when ? ` ${when}` : ''}`, { pluginId: tool.plugin.id });
    if (!isPlainObject(outcome) || !Array.isArray(outcome.content)) throw bad('no content');
    if (outcome.isError || !tool.validateOutput) return;
    if (outcome.structuredContent === undefined) throw bad('no structured data, but it declares an output schema');
    if (!tool.validateOutput(outcome.structuredContent)) {
      throw bad(`data that does not match its output schema: ${formatSchemaErrors(tool.validateOutput.errors)}`);
    }
  }

  const exposedPrompts = (): { prompts: ExposedPrompt[]; diagnostics: Diagnostic[] } => toExposedPrompts(registered, config.naming);

  async function getPrompt(name: string, args: Record<string, string>, callOptions: ToolCallOptions = {}): Promise<PromptOutcome> {
    const prompt = exposedPrompts().prompts.find((entry) => entry.name === name);
    const owner = prompt?.plugin.plugin;
    if (!prompt || !owner?.getPrompt) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown prompt: ${name}`);
    const missing = (prompt.definition.arguments ?? []).filter((argument) => argument.required && !args[argument.name]).map((argument) => argument.name);
    if (missing.length > 0) {
      throw new ToolportError(ErrorCode.ArgumentsInvalid, `Missing arguments for prompt ${name}: ${missing.join(', ')}`, { pluginId: prompt.plugin.id });
    }
    const callSignal = createCallSignal({
      client: callOptions.signal,
      shutdown: shutdown.signal,
      timeoutMs: prompt.plugin.timeoutMs,
      label: name,
      pluginId: prompt.plugin.id,
    });
    const context = toCallContext(callOptions);
    try {
      return await Promise.race([
        owner.getPrompt(prompt.definition.name, args, {
          signal: callSignal.signal,
          context,
          toolName: (tool) => registry.tools.find((entry) => entry.plugin === prompt.plugin && entry.definition.name === tool)?.name,
        }),
        callSignal.aborted,
      ]);
    } catch (error) {
      if (isToolportError(error)) throw error;
      logger.warn({ prompt: name, err: error }, 'prompt failed');
      throw new ToolportError(ErrorCode.PluginCrashed, `${name} failed: the plugin could not render the prompt; see the server log`, { cause: error, pluginId: prompt.plugin.id });
    } finally {
      callSignal.dispose();
    }
  }

  async function instructionsFor(session: SessionInfo, signal?: AbortSignal): Promise<string | undefined> {
    const sources = registered.filter((entry) => typeof entry.plugin.instructions === 'function');
    if (sources.length === 0 || shutdown.signal.aborted) return undefined;
    const limit = AbortSignal.any([AbortSignal.timeout(instructionsTimeoutMs), shutdown.signal, ...(signal ? [signal] : [])]);
    const texts = await Promise.all(
      sources.map(async (entry) => {
        try {
          const text = await entry.plugin.instructions?.(session, limit);
          return text?.trim() ? text.trim() : undefined;
        } catch (error) {
          logger.warn({ plugin: entry.id, err: error }, 'plugin instructions failed; left out');
          return undefined;
        }
      }),
    );
    const parts = texts.filter((text): text is string => text !== undefined);
    return parts.length > 0 ? parts.join('\n\n') : undefined;
  }

  function eventBase(name: string, pluginId: string | undefined, context: CallContext, callOptions: ToolCallOptions): CallEventBase {
    return {
      time: new Date().toISOString(),
      tool: name,
      plugin: pluginId,
      callId: context.callId,
      principal: context.principal,
      session: callOptions.session ?? context.sessionId ?? callOptions.approval?.sessionKey,
      client: context.client ? `${context.client.name}/${context.client.version}` : undefined,
    };
  }

  return {
    config,
    registry,
    logger,
    secrets,
    inbox,
    hooks,
    on: (event, handler, hookOptions) => hooks.on(event, handler, hookOptions),
    registerTool: (tool, registerOptions = {}) => registerTool(tool, registerOptions.plugin ?? 'host', 'registerTool'),
    get diagnostics() {
      return [...loadDiagnostics, ...registry.diagnostics, ...policyDiagnostics(), ...exposedPrompts().diagnostics];
    },
    listTools(principal) {
      // The same decision as the call path, on the final name: unconditional denials hide the tool.
      return registry.tools.filter((tool) => decideFor(tool, principal ?? 'local', undefined).action !== 'deny');
    },
    listPrompts: () => exposedPrompts().prompts,
    getPrompt,
    instructionsFor,
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
        try {
          const results = await Promise.allSettled(registered.map((entry) => entry.plugin.close()));
          for (const [index, result] of results.entries()) {
            if (result.status === 'rejected') logger.warn({ err: result.reason, plugin: registered[index]?.id }, 'plugin close failed');
          }
        } finally {
          // Last, so the events of the calls just stopped still go out.
          await hooks.drain();
          await events?.close();
        }
      })();
      return closing;
    },
  };
}
