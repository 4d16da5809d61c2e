// A running toolport: plugins loaded through their adapters, a registry of exposed
// tools, and the call pipeline (lookup → argument check → plugin call with a signal
// → result check). Transports and the CLI sit on top of this.
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
import { createRegistry, type Diagnostic, type ExposedTool, type RegisteredPlugin, type Registry } from './core/registry.js';
import { createSchemaCompiler, formatSchemaErrors } from './core/schema.js';
import { isPlainObject, type CallContext, type CallOptions, type ToolOutcome } from './core/tool.js';

export interface ToolportOptions {
  logger?: Logger;
  /** Where adapters keep caches and state. Default: a `toolport` folder in the OS temp dir. */
  stateDir?: string;
}

export interface ToolCallOptions {
  signal?: AbortSignal;
  progress?: CallOptions['progress'];
  log?: CallOptions['log'];
  context?: Partial<CallContext>;
  sample?: CallOptions['sample'];
}

export interface Toolport {
  readonly config: Config;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Plugins that failed to load, collisions and disabled tools. */
  readonly diagnostics: readonly Diagnostic[];
  /** Tools as clients see them, in tools/list order. */
  listTools(): readonly ExposedTool[];
  /**
   * Runs one call through the pipeline. Resolves with what the plugin answered;
   * rejects with a ToolportError when there was no answer (unknown tool, bad
   * arguments, timeout, cancellation, crash).
   */
  call(name: string, args: unknown, options?: ToolCallOptions): Promise<ToolOutcome>;
  /** Listens for changes of the tool list. Returns the unsubscribe function. */
  onToolsChanged(listener: () => void): () => void;
  /** Stops in-flight calls and closes every plugin. Idempotent. */
  close(): Promise<void>;
}

const noop = (): void => {};

export async function createToolport(config: Config, options: ToolportOptions = {}): Promise<Toolport> {
  const logger = options.logger ?? createSilentLogger();
  const stateDir = options.stateDir ?? join(tmpdir(), 'toolport');
  const compiler = createSchemaCompiler();
  const registry = createRegistry({ naming: config.naming, compiler, logger });
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
    const context: AdapterContext = { baseDir: process.cwd(), logger, stateDir, toolsChanged };
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
    return { id: spec.id ?? plugin.id, plugin, timeoutMs: timeoutSeconds * 1000, source: entry.path };
  });
  for (const result of await Promise.all(loads)) if (result) registered.push(result);
  registry.setPlugins(registered);
  for (const diagnostic of loadDiagnostics) logger.error(diagnostic.message);
  logger.info({ plugins: registered.length, tools: registry.tools.length }, 'plugins loaded');

  let closing: Promise<void> | undefined;

  async function call(name: string, args: unknown, callOptions: ToolCallOptions = {}): Promise<ToolOutcome> {
    if (shutdown.signal.aborted) {
      throw new ToolportError(ErrorCode.ShuttingDown, `${name} was not run: the server is shutting down`);
    }
    const tool = registry.get(name);
    if (!tool) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${name}`);
    const input = args ?? {};
    if (!isPlainObject(input) || !tool.validateInput(input)) {
      const why = isPlainObject(input) ? formatSchemaErrors(tool.validateInput.errors) : '(arguments): must be an object';
      throw new ToolportError(ErrorCode.ArgumentsInvalid, `Invalid arguments for ${name}: ${why}`, { pluginId: tool.plugin.id });
    }
    const context: CallContext = {
      callId: callOptions.context?.callId ?? randomUUID(),
      principal: callOptions.context?.principal ?? 'local',
      ...(callOptions.context?.sessionId !== undefined && { sessionId: callOptions.context.sessionId }),
      ...(callOptions.context?.client !== undefined && { client: callOptions.context.client }),
    };
    const callSignal = createCallSignal({
      client: callOptions.signal,
      shutdown: shutdown.signal,
      timeoutMs: tool.plugin.timeoutMs,
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
          context,
          ...(callOptions.sample && { sample: callOptions.sample }),
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
      logger.warn({ tool: name, callId: context.callId, code: failure.code, err: error }, failure.shortMessage);
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
    get diagnostics() {
      return [...loadDiagnostics, ...registry.diagnostics];
    },
    listTools: () => registry.tools,
    call,
    onToolsChanged: (listener) => registry.onChange(listener),
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
