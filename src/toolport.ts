// A running toolport: the plugins loaded through their adapters, the registry of exposed
// tools, the call pipeline (src/pipeline/) in front of them, prompts and instructions, and
// one close for all of it. Transports and the CLI sit on top; `callTool` is their one door.
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { CallToolResult, GetPromptResult, InputRequiredResult } from '@modelcontextprotocol/server';
import { loadPlugins, type KeptCatalogueOptions } from './adapters/load-plugins.js';
import type { Config } from './config/schema.js';
import { settlesWithin } from './core/abort.js';
import { ErrorCode, ToolportError } from './core/errors.js';
import type { ExposedPrompt } from './core/exposed-prompts.js';
import { createHostPlugin, type HostPlugin, type HostTool } from './core/host-tools.js';
import { pruneCache } from './core/cache-pruning.js';
import type { EarlyHosts } from './core/early-hosts.js';
import { createSilentLogger, type Logger } from './core/logger.js';
import { noGrants, offersSkill, pluginIdPattern, pluginIdRule } from './core/plugin.js';
import { loadSkillCatalog, type SkillCatalogHandle, type SkillFolder } from './core/skills.js';
import type { SkillsExtension } from '@modelcontextprotocol/server/ext/skills';
import type { SessionInfo } from './core/prompt.js';
import { createSecretSet, type SecretSet } from './core/redact.js';
import { assertPrivateDir, toStateDirs } from './core/state-dir.js';
import { createRegistry, type Diagnostic, type ExposedTool, type RegisteredPlugin, type Registry } from './core/registry.js';
import { createSchemaCompiler } from './core/schema.js';
import { toCallToolResult, toGetPromptResult } from './core/to-mcp-result.js';
import { isPlainObject, type ToolOutcome } from './core/tool.js';
import { createCallPipeline, createToolDecider, type ToolCallOptions } from './pipeline/index.js';
import { computeInstructions } from './pipeline/instructions.js';
import { createPrompts } from './pipeline/prompts.js';
import { createApprovalChain } from './policy/approvals.js';
import { createSingleUse } from './policy/single-use.js';
import { createMemoryState, type SharedState } from './core/shared-state.js';
import { createAuditLog } from './policy/audit.js';
import { compilePolicy, describeRule, ruleMatchesAny, type Decision } from './policy/decide.js';
import { createMqttEventStream, type EventStream } from './policy/event-stream.js';
import { missingGrants } from './core/grants.js';
import { loadHookModules } from './policy/hook-modules.js';
import { createHookBus, type HookBus } from './policy/hooks.js';
import { createApprovalInbox, type ApprovalInbox } from './policy/inbox.js';
import { createRateLimiter, createSharedRateLimiter, unmatchedLimits } from './policy/rate-limits.js';
import { createFilePinStore } from './policy/pin-store.js';
import { changedParts, createPinGuard, withPinDecision, type PinGuard } from './policy/pins.js';
import { createTelemetry, type Telemetry } from './telemetry/index.js';

export type { ToolCallOptions } from './pipeline/index.js';

export interface ToolportOptions {
  /** The config file's folder: relative paths in plugin blocks resolve against it. Default: the working directory. */
  baseDir?: string;
  logger?: Logger;
  /**
   * Where adapters keep state, with caches in its `cache` folder. Default: the config's
   * `stateDir`, else TOOLPORT_STATE_DIR, else `$XDG_STATE_HOME/toolport` and `$XDG_CACHE_HOME/toolport`.
   */
  stateDir?: string;
  /** Secret values to scrub from logs and audit records; config secrets are added to it. */
  secrets?: SecretSet;
  /** Publish events to `events.mqtt` when configured. Default true; one-shot commands turn it off. */
  publishEvents?: boolean;
  /** Write load problems and policy warnings to the log. Default true; commands that print them turn it off. */
  logDiagnostics?: boolean;
  /** The state to use instead of the one `state` in the config says (the caller closes it). */
  state?: SharedState;
  /** Keep metrics and the live view of calls, and send traces when configured. Default true; one-shot commands turn it off. */
  telemetry?: boolean;
  /** toolport's version, for traces. */
  version?: string;
  /**
   * List tools before the plugins have loaded, from what each offered at the last start (kept
   * in the cache folder): the plugins then load once the first tools/list was answered, a call
   * needs one, or 0.25 s have passed. Default false; `toolport serve` turns it on.
   */
  keptCatalogue?: boolean;
  /** Remove cache entries unused for 30 days, a few seconds after start (at most once a day). Default false; `toolport serve` turns it on. */
  pruneCache?: boolean;
  /** Plugin hosts started before toolport loaded (bin/toolport.js); used only with the cache folder they were noted in. */
  earlyHosts?: EarlyHosts;
}

export interface RegisterToolOptions {
  /** The plugin id the tool belongs to (its prefix under the default naming). Default `host`. */
  plugin?: string;
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
  /** Where state shared between replicas is kept (in this process unless `state.redis` is configured). */
  readonly state: SharedState;
  /** Signs the requestState of 2026-07-28 approval round trips: shared by every replica with a shared state. */
  readonly requestStateKey: Buffer;
  /** Skill folders (command skills) served through the MCP skills extension; undefined when there are none. */
  readonly skills: SkillsExtension | undefined;
  /** Metrics and the live view (with `approvals.admin`), traces (with an OTLP endpoint). */
  readonly telemetry: Telemetry;
  /** The plugins served: from the config, then those of registerTool. */
  readonly plugins: readonly RegisteredPlugin[];
  /** Plugins that failed to load, collisions, disabled tools, rules that match nothing. */
  readonly diagnostics: readonly Diagnostic[];
  /** Tools as this principal's clients see them, in tools/list order (denied and quarantined tools hidden). */
  listTools(principal?: string): readonly ExposedTool[];
  /** Whether this principal's clients see the tool (not denied outright, not quarantined). */
  isListed(tool: ExposedTool, principal?: string): boolean;
  /** Tool-definition pins: verdicts, approvals, the stored pins. */
  readonly pins: PinGuard;
  /**
   * Runs one call through the pipeline and answers as MCP does: a CallToolResult (isError
   * when there was no answer, with a message the model can act on) or an input_required
   * result. Throws only what MCP makes a JSON-RPC error (an unknown tool).
   */
  callTool(name: string, args: unknown, options?: ToolCallOptions): Promise<CallToolResult | InputRequiredResult>;
  /**
   * The same call for in-process use: resolves with what the plugin answered; rejects with
   * a ToolportError when there was no answer (unknown tool, bad arguments, denied or
   * rejected, timeout, cancellation, crash, or an answer that needs a retried request).
   */
  call(name: string, args: unknown, options?: ToolCallOptions): Promise<ToolOutcome>;
  /** The policy decision for a call, without running it. */
  explain(name: string, args: unknown, principal?: string): PolicyExplanation;
  /** Prompts as clients see them, in prompts/list order. */
  listPrompts(): readonly ExposedPrompt[];
  /** Renders a prompt as prompts/get answers; throws a JSON-RPC error (ProtocolError) when it cannot. */
  getPrompt(name: string, args: Record<string, string>, options?: ToolCallOptions): Promise<GetPromptResult>;
  /** The server instructions for one client session: what each plugin contributes, joined. */
  instructionsFor(session: SessionInfo, signal?: AbortSignal): Promise<string | undefined>;
  /** Listens for changes of the tool list. Returns the unsubscribe function. */
  onToolsChanged(listener: () => void): () => void;
  /** Listens for changes of the skills served (a skill folder added or withdrawn). Returns the unsubscribe function. */
  onSkillsChanged(listener: () => void): () => void;
  /** Tells the approval chain a session ended (its "for this session" approvals go). */
  endSession(sessionKey: string): void;
  /** The event hooks: subscribe with `on`; transports report sessions through `notify`. */
  readonly hooks: HookBus;
  /** Subscribes a handler to an event (tool_call, tool_result, tool_error, message, session_start, session_end, list_changed, pin_changed). */
  on: HookBus['on'];
  /** Adds a tool served through the same pipeline as plugin tools. Returns the function that removes it. */
  registerTool(tool: HostTool, options?: RegisterToolOptions): () => void;
  /**
   * Stops every call in flight as shutdown does, without closing anything yet, and resolves
   * once they have ended (at most `waitMs`, default 1 s) and their answers had a turn to be
   * written. A server calls it before it closes its transports, so each call is answered and
   * recorded as stopped by the shutdown, not cancelled by its client's closing connection.
   * There is no way back: new calls are refused from then on. Idempotent; `close` stops the
   * calls too.
   */
  stopCalls(waitMs?: number): Promise<void>;
  /** Stops in-flight calls and closes every plugin. Idempotent. */
  close(): Promise<void>;
}

/** Secrets the config itself holds: bearer tokens, the admin token, the MQTT password. */
function collectConfigSecrets(config: Config, secrets: SecretSet): void {
  for (const token of config.server.http.auth.tokens) secrets.add(typeof token === 'string' ? token : token.token);
  secrets.add(config.approvals.admin?.token);
  secrets.add(config.events.mqtt?.password);
  const state = stateConfigOf(config);
  secrets.add(state.keys.requestState, state.keys.relationship);
  if (state.redis) {
    try {
      secrets.add(decodeURIComponent(new URL(state.redis.url).password) || undefined);
    } catch {
      // Not a URL: the config check has said so already.
    }
  }
  for (const value of Object.values(config.telemetry.otlp?.headers ?? {})) secrets.add(value);
}

/** The config's `state` block (a Config built in code may leave it out). */
function stateConfigOf(config: Config): Config['state'] {
  return config.state ?? { keys: {} };
}

/** The state the config asks for: Redis (connected, or toolport refuses to start) or this process's memory. */
async function openState(config: Config, logger: Logger): Promise<SharedState> {
  const { redis, replica, keys } = stateConfigOf(config);
  if (!redis) return createMemoryState({ replica, keys });
  const { createRedisState } = await import('./core/redis-state.js');
  return createRedisState({ url: redis.url, prefix: redis.prefix, replica, keys, logger });
}

/** The channel on which replicas tell each other that a tool list changed. */
const toolsChangedChannel = 'tools-changed';

function logDiagnostic(logger: Logger, diagnostic: Diagnostic): void {
  if (diagnostic.level === 'error') logger.error(diagnostic.message);
  else if (diagnostic.level === 'warning') logger.warn(diagnostic.message);
  else logger.info(diagnostic.message);
}

/** How many principals' tool lists are kept at once (OAuth can bring many principals). */
const maxCachedPrincipals = 256;

export async function createToolport(config: Config, options: ToolportOptions = {}): Promise<Toolport> {
  // The config's secrets (the Redis password among them) are known before anything may log them.
  const secrets = options.secrets ?? createSecretSet();
  collectConfigSecrets(config, secrets);
  const ownsState = options.state === undefined;
  const state = options.state ?? (await openState(config, options.logger ?? createSilentLogger()));
  try {
    return await assemble(config, { ...options, secrets }, state, ownsState);
  } catch (error) {
    if (ownsState) await state.close();
    throw error;
  }
}

/** How long after start a serving toolport prunes its cache folder. */
const pruneAfterMs = 5_000;
/** How long plugins listed from the kept catalogue wait for a first tools/list before loading anyway. */
const keptLoadDelayMs = 250;

async function assemble(config: Config, options: ToolportOptions & { secrets: SecretSet }, state: SharedState, ownsState: boolean): Promise<Toolport> {
  const logger = options.logger ?? createSilentLogger();
  // Holds the config's secrets already (createToolport collected them before anything could log).
  const { secrets } = options;
  const logDiagnostics = options.logDiagnostics !== false;
  const dirs = toStateDirs(options.stateDir ?? config.stateDir);
  await assertPrivateDir(dirs.state, 'state folder');
  await assertPrivateDir(dirs.cache, 'cache folder');
  let pruning: NodeJS.Timeout | undefined;
  if (options.pruneCache) {
    // Once the start is over: a few thousand stats, off the path to the first answers.
    pruning = setTimeout(() => {
      pruneCache(dirs.cache).then(
        (result) => {
          if (result.ran) logger.debug({ removed: result.removed }, 'cache entries unused for 30 days removed');
        },
        (error: unknown) => logger.debug({ err: error }, 'could not prune the cache folder'),
      );
    }, pruneAfterMs).unref();
  }
  const earlyHosts = options.earlyHosts?.cacheDir === dirs.cache ? options.earlyHosts : undefined;
  if (!earlyHosts) options.earlyHosts?.close();
  // The registry logs collisions and disabled tools; a command that prints them does not need
  // that. Its schemas' validation code is kept in the cache folder (a restart does not compile).
  const registry = createRegistry({ naming: config.naming, compiler: createSchemaCompiler({ cacheDir: dirs.cache }), logger: logDiagnostics ? logger : createSilentLogger() });
  const policy = compilePolicy(config.policy);
  const decideFor = createToolDecider(policy);
  // tools/list per principal, for the current catalogue (see listTools).
  let listCache: { tools: readonly ExposedTool[]; version: number; byPrincipal: Map<string, readonly ExposedTool[]> } = { tools: [], version: 0, byPrincipal: new Map() };
  // Bumped whenever what clients may list changes (the registry, or a pin approved elsewhere).
  let listVersion = 0;
  const requestStateKey = (await state.sharedSecret('requestState')) ?? randomBytes(32);
  const inbox = config.approvals.admin ? createApprovalInbox(state, { logger }) : undefined;
  const hooks = createHookBus({ logger, secrets });
  const watched = options.telemetry !== false;
  const telemetry = await createTelemetry({
    metrics: watched && inbox !== undefined,
    live: watched && inbox !== undefined,
    otlp: watched ? config.telemetry.otlp : undefined,
    env: watched ? process.env : {},
    serviceName: config.server.name,
    version: options.version ?? '0.0.0',
    logger,
  });
  const shutdown = new AbortController();
  // Every call in flight listens on the shutdown signal (and removes itself when done).
  setMaxListeners(0, shutdown.signal);

  // The plugins: from the config, then the tools registered in code (one in-process plugin
  // per registering party). The registry sees them all once the hooks have loaded.
  let registryReady = false;
  const hostPlugins = new Map<string, RegisteredPlugin & { plugin: HostPlugin }>();
  const loaded: RegisteredPlugin[] = [];
  const allPlugins = (): RegisteredPlugin[] => [...loaded, ...hostPlugins.values()];
  // Skill folders, with their tools under the names clients call them by.
  const skillFolders = (): SkillFolder[] =>
    loaded.flatMap((entry) =>
      offersSkill(entry.plugin)
        ? [
            {
              name: entry.plugin.skill.name,
              folder: entry.plugin.skill.folder,
              tools: registry.tools.filter((tool) => tool.plugin.id === entry.id).map((tool) => ({ name: tool.name, description: tool.definition.description })),
            },
          ]
        : [],
    );
  // The catalog serving them, once it is being made, and what it was last given (as JSON).
  let skillCatalog: Promise<SkillCatalogHandle | undefined> | undefined = undefined;
  let servedSkills = '';
  const skillListeners = new Set<() => void>();
  // A plugin swapped in (or withdrawn) after start, or one that joined late, changes the skill
  // folders or their tools. Connected servers hear it from the catalog; transports that build
  // a server per request, through onSkillsChanged.
  const refreshSkills = (): void => {
    if (!skillCatalog) return;
    const folders = skillFolders();
    const text = JSON.stringify(folders);
    if (text === servedSkills) return;
    servedSkills = text;
    skillCatalog
      .then((catalog) => catalog?.update(folders))
      .then(
        (listChanged) => {
          if (listChanged) for (const listener of skillListeners) listener();
        },
        (error: unknown) => logger.warn({ err: error }, 'could not serve the changed skill folders'),
      );
  };
  const syncRegistry = (): void => {
    if (!registryReady) return;
    registry.setPlugins(allPlugins());
    refreshSkills();
  };
  const registerTool = (tool: HostTool, id: string, configPath: string): (() => void) => {
    if (!pluginIdPattern.test(id)) throw new TypeError(`registerTool: plugin id "${id}" ${pluginIdRule}`);
    if (loaded.some((entry) => entry.id === id)) throw new TypeError(`registerTool: "${id}" is the id of a loaded plugin; pick another`);
    let entry = hostPlugins.get(id);
    if (!entry) {
      entry = { id, plugin: createHostPlugin(id, syncRegistry), timeoutSeconds: undefined, source: configPath, grants: noGrants, configPath };
      hostPlugins.set(id, entry);
    }
    return entry.plugin.add(tool);
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

  // Served from the kept catalogue, plugins load after the first answer: the first tools/list
  // (listTools), a call or prompt that needs one, or a short while after start. Set while
  // those loads are held back.
  let releaseLoads: (() => void) | undefined;
  const lateDiagnostics: Diagnostic[] = [];
  // The real plugin swapped in for the provisional one (or the provisional one withdrawn).
  const swapIn = (provisional: RegisteredPlugin, real: RegisteredPlugin | undefined, diagnostics: Diagnostic[]): void => {
    // Once stopping, the provisional plugin stays: its close() closes whatever arrived.
    if (shutdown.signal.aborted) return;
    const at = loaded.indexOf(provisional);
    if (at === -1) void real?.plugin.close().catch(() => {});
    else if (real) loaded[at] = real;
    else loaded.splice(at, 1);
    lateDiagnostics.push(...diagnostics);
    if (logDiagnostics) for (const diagnostic of diagnostics) logDiagnostic(logger, diagnostic);
    logger.debug({ plugin: provisional.id, loaded: real !== undefined }, 'a plugin listed from the kept catalogue finished loading');
    syncRegistry();
  };
  // One that loads at once (it gives instructions) may finish before loadPlugins listed the others.
  let swapsHeld: Parameters<typeof swapIn>[] | undefined = [];
  const kept: KeptCatalogueOptions | undefined = options.keptCatalogue
    ? {
        version: options.version ?? '0.0.0',
        until: new Promise<void>((resolve) => (releaseLoads = resolve)),
        settled: (...swap) => (swapsHeld ? swapsHeld.push(swap) : swapIn(...swap)),
      }
    : undefined;
  const release = (): void => {
    const held = releaseLoads;
    releaseLoads = undefined;
    held?.();
  };

  logger.info({ plugins: config.plugins.length }, 'loading plugins');
  const loading = await loadPlugins(config.plugins, {
    ...(kept && { kept }),
    ...(earlyHosts && { earlyHosts }),
    baseDir: options.baseDir ?? process.cwd(),
    logger,
    stateDir: dirs.state,
    cacheDir: dirs.cache,
    state,
    toolsChanged,
    secrets,
    loadTimeoutSeconds: config.defaults.loadTimeoutSeconds,
    shutdown: shutdown.signal,
    onPluginEvent: (pluginId, event) => telemetry.pluginEvent(pluginId, event),
    // A plugin that missed its load deadline joins when it is ready; clients hear list_changed.
    onLateLoad(plugin) {
      if (shutdown.signal.aborted || allPlugins().some((entry) => entry.id === plugin.id)) return false;
      loaded.push(plugin);
      logger.warn({ plugin: plugin.id }, 'a plugin that missed its load deadline is ready now; its tools are added');
      syncRegistry();
      return true;
    },
  });
  loaded.push(...loading.plugins);
  const held = swapsHeld;
  swapsHeld = undefined;
  for (const swap of held) swapIn(...swap);
  try {
    await loadHookModules(config.hooks, {
      bus: hooks,
      logger,
      serverName: config.server.name,
      registerTool: (id, tool) => registerTool(tool, id, `hooks (${id})`),
    });
  } catch (error) {
    // Without its hooks the server would run unguarded: close what was loaded and refuse to start.
    // Loads still held back or running stop too (a provisional plugin's close waits for its load).
    shutdown.abort();
    await Promise.allSettled(loaded.map((entry) => entry.plugin.close()));
    await telemetry.shutdown();
    throw error;
  }
  // Before the pins are checked, so a change found at start reaches the event stream too.
  let events: EventStream | undefined;
  if (config.events.mqtt && options.publishEvents !== false) {
    events = await createMqttEventStream(config.events.mqtt, { bus: hooks, secrets, logger, serverName: config.server.name });
  }
  const audit = config.audit ? createAuditLog(config.audit.path, { includeArguments: config.audit.includeArguments, secrets }) : undefined;
  let pins: PinGuard;
  try {
    pins = await createPinGuard({
      config: config.pins,
      store: createFilePinStore(dirs.state),
      logger,
      hooks,
      audit,
      tools: () => registry.tools,
      // Tools registered in code are the embedding program's own, not a plugin's.
      exempt: (tool) => hostPlugins.get(tool.plugin.id) === tool.plugin,
      // One-shot commands print held-back tools as diagnostics; the server tells the hooks and the audit.
      announce: options.publishEvents !== false,
    });
  } catch (error) {
    shutdown.abort();
    await Promise.allSettled(loaded.map((entry) => entry.plugin.close()));
    throw new ToolportError(ErrorCode.ConfigInvalid, `cannot read the tool pins: ${(error as Error).message}`, { cause: error });
  }
  registryReady = true;
  syncRegistry();
  pins.review(registry.tools);
  // Clients hear list_changed when the registry changed and when pins approved elsewhere change what they see.
  const toolListeners = new Set<() => void>();
  const listChanged = (): void => {
    listVersion += 1;
    hooks.notify({ type: 'list_changed', time: new Date().toISOString(), tools: registry.tools.map((tool) => tool.name) });
    for (const listener of toolListeners) listener();
  };
  registry.onChange(() => {
    pins.review(registry.tools);
    listChanged();
    // With a shared state, a tool list that changed here is announced to the other replicas,
    // whose clients then list the tools again (each replica serves its own plugins).
    if (state.shared) {
      state.publish(toolsChangedChannel, state.replica).catch((error: unknown) => logger.warn({ err: error }, 'could not tell the other replicas that the tool list changed'));
    }
  });
  pins.onOutsideChange(listChanged);
  let stopRelay = (): void => {};
  if (state.shared) {
    stopRelay = state.subscribe(toolsChangedChannel, (from) => {
      if (from === state.replica || shutdown.signal.aborted) return;
      for (const listener of toolListeners) listener();
    });
  }
  if (logDiagnostics) for (const diagnostic of loading.diagnostics) logDiagnostic(logger, diagnostic);

  const policyDiagnostics = (): Diagnostic[] => {
    const tools = registry.tools.map((tool) => ({ tool: tool.name, plugin: tool.plugin.id, kind: tool.kind, sideEffects: tool.sideEffects }));
    const rules = config.policy.rules.flatMap((rule, index) =>
      ruleMatchesAny(policy, index, tools) ? [] : [{ level: 'warning' as const, message: `${describeRule(rule, index)} matches no tool` }],
    );
    const limits = unmatchedLimits(config.limits, tools).map((message) => ({ level: 'warning' as const, message }));
    return [...rules, ...limits];
  };
  if (logDiagnostics) for (const diagnostic of policyDiagnostics()) logger.warn(diagnostic.message);
  logger.info({ plugins: loaded.length, tools: registry.tools.length }, 'plugins loaded');

  const skillDiagnostics: Diagnostic[] = [];
  const startFolders = skillFolders();
  servedSkills = JSON.stringify(startFolders);
  // A swap while the catalog is made is served once it is made (refreshSkills waits for it).
  skillCatalog = loadSkillCatalog(
    startFolders,
    // A folder whose skill cannot be served keeps its tools; check and the log say why (info).
    (warning) => skillDiagnostics.push({ level: 'info', message: `skills extension: ${warning.path}: ${warning.message}` }),
    // Later (a plugin swapped in with another folder) only the log says it.
    (warning) => logger.info({ path: warning.path }, `skills extension: ${warning.message}`),
  );
  const skills = (await skillCatalog)?.extension;
  if (logDiagnostics) for (const diagnostic of skillDiagnostics) logger.info(diagnostic.message);

  const approvals = createApprovalChain({ inbox, timeoutMs: config.approvals.timeoutSeconds * 1000 });
  const pipeline = createCallPipeline({
    registry,
    decideFor,
    limiter: state.limits ? createSharedRateLimiter(config.limits, state.limits) : createRateLimiter(config.limits),
    approvals,
    approvalTimeoutSeconds: config.approvals.timeoutSeconds,
    approvalChannels: config.approvals.channels,
    singleUse: createSingleUse(state),
    hooks,
    pins,
    audit,
    logger,
    defaultTimeoutSeconds: config.defaults.timeoutSeconds,
    argumentLimits: { maxDepth: config.defaults.maxArgumentDepth, maxBytes: config.defaults.maxArgumentBytes },
    shutdown: shutdown.signal,
    monitor: telemetry.monitor,
  });
  const prompts = createPrompts({
    plugins: () => loaded,
    naming: config.naming,
    registry,
    shutdown: shutdown.signal,
    logger,
    defaultTimeoutSeconds: config.defaults.timeoutSeconds,
  });
  let closing: Promise<void> | undefined;
  const isListed = (tool: ExposedTool, principal = 'local'): boolean => {
    if (decideFor(tool, principal, undefined).action === 'deny') return false;
    const verdict = pins.verdict(tool);
    return verdict.state === 'pinned' || verdict.action !== 'quarantine';
  };
  const pinDiagnostics = (): Diagnostic[] =>
    registry.tools.flatMap((tool): Diagnostic[] => {
      const verdict = pins.verdict(tool);
      if (verdict.state === 'pinned') return [];
      const what = verdict.state === 'new' ? 'is a new tool of a pinned plugin' : `has a changed ${changedParts(verdict.pinned?.definition, verdict.current.definition)} since it was pinned`;
      const doing = { quarantine: 'quarantined', ask: 'every call asks for approval', warn: 'served anyway' }[verdict.action];
      return [{ level: 'warning', pluginId: tool.plugin.id, tool: tool.name, message: `${tool.name} ${what}: ${doing} (toolport pins diff ${tool.name}; toolport pins approve ${tool.name})` }];
    });

  // A server nobody lists tools from yet (HTTP) still loads its plugins soon after start.
  if (releaseLoads) setTimeout(release, keptLoadDelayMs).unref();

  return {
    config,
    registry,
    logger,
    secrets,
    inbox,
    state,
    requestStateKey,
    skills,
    telemetry,
    hooks,
    on: (event, handler, hookOptions) => hooks.on(event, handler, hookOptions),
    registerTool: (tool, registerOptions = {}) => registerTool(tool, registerOptions.plugin ?? 'host', 'registerTool'),
    get plugins() {
      return allPlugins();
    },
    get diagnostics() {
      return [...loading.diagnostics, ...lateDiagnostics, ...registry.diagnostics, ...skillDiagnostics, ...pinDiagnostics(), ...policyDiagnostics(), ...prompts.list().diagnostics];
    },
    listTools(principal = 'local') {
      // The first list is answered before the held-back plugin loads begin.
      if (releaseLoads) setImmediate(release);
      // The same decision as the call path, on the final name: unconditional denials and
      // quarantined tools are hidden. Without arguments that depends only on the tool, the
      // principal and the pins, so each principal's list is kept until the list changes.
      const tools = registry.tools;
      if (listCache.tools !== tools || listCache.version !== listVersion) listCache = { tools, version: listVersion, byPrincipal: new Map() };
      let visible = listCache.byPrincipal.get(principal);
      if (!visible) {
        visible = tools.filter((tool) => isListed(tool, principal));
        if (listCache.byPrincipal.size >= maxCachedPrincipals) listCache.byPrincipal.clear();
        listCache.byPrincipal.set(principal, visible);
      }
      return visible;
    },
    isListed,
    pins,
    async callTool(name, args, callOptions) {
      return toCallToolResult(await pipeline.run(name, args, callOptions), name);
    },
    async call(name, args, callOptions) {
      const ending = await pipeline.run(name, args, callOptions);
      if (ending.type === 'answered') return ending.outcome;
      if (ending.type === 'failed') throw ending.error;
      throw new ToolportError(ErrorCode.CallDenied, `${name} needs an answer from the client first (input_required); call it through callTool`);
    },
    explain(name, args, principal = 'local') {
      const tool = registry.get(name);
      if (!tool) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${name}`);
      const input = isPlainObject(args) ? args : {};
      return {
        tool: name,
        decision: withPinDecision(decideFor(tool, principal, input), pins.verdict(tool)),
        missingGrants: missingGrants(tool.definition.permissions ?? [], tool.plugin.grants, tool.plugin.configPath).map(
          (missing) => `${missing.declared} (set ${missing.configLine})`,
        ),
      };
    },
    listPrompts: () => prompts.list().prompts,
    async getPrompt(name, args, callOptions) {
      return toGetPromptResult(await prompts.get(name, args, callOptions));
    },
    instructionsFor: (session, signal) => computeInstructions(loaded, session, { shutdown: shutdown.signal, signal, logger }),
    onToolsChanged(listener) {
      toolListeners.add(listener);
      return () => toolListeners.delete(listener);
    },
    onSkillsChanged(listener) {
      skillListeners.add(listener);
      return () => skillListeners.delete(listener);
    },
    endSession: (sessionKey) => approvals.forgetSession(sessionKey),
    async stopCalls(waitMs = 1000) {
      shutdown.abort();
      await pipeline.whenIdle(waitMs);
      // The answers of the calls just ended are written in the turns that follow their end.
      await new Promise((resolve) => setImmediate(resolve));
    },
    close() {
      closing ??= (async () => {
        shutdown.abort();
        clearTimeout(pruning);
        earlyHosts?.close();
        try {
          const results = await Promise.allSettled(loaded.map((entry) => entry.plugin.close()));
          for (const [index, result] of results.entries()) {
            if (result.status === 'rejected') logger.warn({ err: result.reason, plugin: loaded[index]?.id }, 'plugin close failed');
          }
        } finally {
          pins.close();
          await pins.flush();
          // Last, so the events and records of the calls just stopped still go out.
          await hooks.drain();
          // Bounded: an audit file that cannot take the lines (a FIFO nobody reads, a hung
          // mount) must not hold the exit.
          if (audit && !(await settlesWithin(audit.flush(), 2000))) logger.warn({ audit: config.audit?.path }, 'the audit log did not take its last lines within 2 s; exiting without them');
          await events?.close();
          stopRelay();
          inbox?.close();
          await telemetry.shutdown();
          if (ownsState) await state.close();
        }
      })();
      return closing;
    },
  };
}
