// A loaded ScaiWave plugin: the supervisor of its Python host (start, load, restart with
// backoff, close), the tool list built from its manifests, and calls with permission
// checks, cancellation and outcome shaping.
import { createHash } from 'node:crypto';
import { basename, dirname, extname, relative, resolve, sep } from 'node:path';
import { ErrorCode, ToolportError, describeThrown } from '../../core/errors.js';
import { parsedOnce } from '../../core/format.js';
import type { Logger } from '../../core/logger.js';
import type { PromptDefinition, PromptOutcome, SessionInfo } from '../../core/prompt.js';
import type { ElicitRequestFormParams } from '@modelcontextprotocol/server';
import { textContent, type CallOptions, type ToolDefinition, type ToolOutcome } from '../../core/tool.js';
import { missingGrants } from '../../core/grants.js';
import { fileURLToPath } from 'node:url';
import { createDeadline, raceSignal, sleep } from '../../core/abort.js';
import { createPluginLifecycle } from '../../core/lifecycle.js';
import type { AdapterContext, Grants, InstructionsCapability, LoadedPlugin, PromptCapability } from '../../core/plugin.js';
import type { PythonSpec } from './spec.js';
import { toPluginEnvironment, type SandboxSetting } from '../../core/sandbox.js';
import { describeMissingPython, loadIsolation } from './isolation.js';
import { HostExitedError, HostRequestError, describeExit, describeHost, startHostProcess, type HostExit, type HostProcess } from './host-process.js';
import { cacheFileFor, fingerprintSources, readLoadCache, writeLoadCache } from './load-cache.js';
import {
  loadResultSchema,
  parseUsage,
  requiredPermissions,
  toDynamicTools,
  toManifest,
  toToolDefinition,
  type LoadResult,
  type ReportedManifest,
  type ReportedTool,
  type ToolSource,
} from './manifest.js';

export interface PythonPluginOptions {
  /** Absolute path of the plugin file or package folder. */
  path: string;
  python: string;
  hostScript: string;
  settings: Record<string, unknown>;
  tenant: Record<string, unknown>;
  userToken: string | undefined;
  services: Record<string, string>;
  grantedEnv: readonly string[];
  /** The plugin's grants, for saying at load which declared permissions are not granted. */
  grants: Grants;
  /** What the host's audit-hook guard lets through (network, processes, files by absolute path). */
  guard: { network: boolean; subprocess: boolean; files: Record<string, 'ro' | 'rw'> };
  dynamicToolsRefreshSeconds: number;
  /** The config's `id`, if any: names the plugin in messages. */
  configId: string | undefined;
  loadTimeoutMs: number;
  cancelGraceMs: number;
  /** `off`: no bubblewrap sandbox (the config's explicit opt-out). */
  sandbox: SandboxSetting;
}

interface SubPlugin {
  className: string;
  manifest: ReportedManifest;
  dynamicTools: ReportedTool[];
  systemContext: boolean;
}

interface ToolRoute {
  plugin: number;
  /** The name the plugin knows the tool by. */
  tool: string;
  required: string[];
}

type PromptRoute = { kind: 'usage'; tool: string; description: string | undefined } | { kind: 'context'; plugin: number; name: string };

interface Started {
  host: HostProcess;
  result: LoadResult;
}

const stableAfterMs = 30_000;
const maxBackoffMs = 30_000;
const closeGraceMs = 1_000;
/** How long the load of a plugin in a host started early may take before bwrap's check runs after all. */
const earlyHostCheckAfterMs = 1_000;
const stderrTailLines = 20;
/** ScaiWave's documented way for a tool to say it failed: a "Fallback suggestions" line. */
const fallbackLine = /^\s*Fallback suggestions\b/im;

const pythonLevels: Record<string, string> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
  silent: 'CRITICAL',
};

/** A path for messages: relative to the working folder when it is inside it. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : path;
}

function describeHostError(info: HostRequestError['info']): string {
  const where = info.file ? ` at ${displayPath(info.file)}${info.line !== undefined ? `:${info.line}` : ''}` : '';
  return `${info.type}${where}: ${info.message}`;
}

export async function loadPythonPlugin(
  options: PythonPluginOptions,
  context: AdapterContext,
): Promise<LoadedPlugin & PromptCapability & Partial<InstructionsCapability>> {
  // A package named by its __init__.py is called after its folder.
  const sourceName = basename(options.path) === '__init__.py' ? basename(dirname(options.path)) : basename(options.path, '.py');
  const label = options.configId ?? sourceName;
  const logger: Logger = context.logger.child({ plugin: label, kind: 'python' });
  // The policy layer refuses calls; the adapter only reports, in the same vocabulary.
  const notGranted = (permissions: readonly string[]): string[] => missingGrants(permissions, options.grants, '').map((missing) => missing.declared);
  const secrets = [
    ...options.grantedEnv.map((name) => process.env[name]).filter((value): value is string => typeof value === 'string'),
    ...(options.userToken !== undefined ? [options.userToken] : []),
  ].filter((value) => value.length >= 4);
  const redact = (text: string): string => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);

  const isPackage = extname(options.path) !== '.py';
  const cwd = isPackage ? options.path : dirname(options.path);
  let isolation = await loadIsolation({
    cacheDir: context.cacheDir,
    setting: options.sandbox,
    python: options.python,
    hostScript: options.hostScript,
    cwd,
    files: options.guard.files,
    network: options.guard.network,
    subprocess: options.guard.subprocess,
  });
  // The allowlist and the granted variables; nothing else of toolport's environment.
  const environmentFor = (sandbox: typeof isolation.sandbox): Record<string, string> => ({
    ...toPluginEnvironment(process.env, options.grantedEnv, sandbox),
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
    PYTHONDONTWRITEBYTECODE: '1',
  });
  let env = environmentFor(isolation.sandbox);
  for (const name of options.grantedEnv) {
    if (process.env[name] === undefined) logger.warn({ variable: name }, 'granted environment variable is not set');
  }
  let nextCall = 0;
  const defaultCtx = { room_id: 'toolport', sender_id: 'toolport', call_id: null };

  let subPlugins: SubPlugin[] = [];
  let routes = new Map<string, ToolRoute>();
  let tools: ToolDefinition[] = [];
  let prompts: PromptDefinition[] = [];
  let promptRoutes = new Map<string, PromptRoute>();
  let fingerprint = '';
  let host: HostProcess | undefined;
  let starting: Promise<HostProcess> | undefined;
  let consecutiveCrashes = 0;
  let everStarted = false;
  const lifecycle = createPluginLifecycle(label);
  const inflight = new Map<string, CallOptions>();
  const stderrTail: string[] = [];

  const rebuildTools = (): boolean => {
    const named: { name: string; route: ToolRoute; source: ToolSource }[] = [];
    const counts = new Map<string, number>();
    subPlugins.forEach((sub, index) => {
      const own = new Set<string>();
      const add = (tool: ReportedTool, dynamic: boolean): void => {
        if (own.has(tool.name)) {
          logger.warn({ tool: tool.name, class: sub.className }, `${sub.className} declares tool "${tool.name}" more than once; only the first is used`);
          return;
        }
        own.add(tool.name);
        const source: ToolSource = { manifest: sub.manifest, tool, dynamic };
        named.push({ name: tool.name, route: { plugin: index, tool: tool.name, required: requiredPermissions(source) }, source });
        counts.set(tool.name, (counts.get(tool.name) ?? 0) + 1);
      };
      for (const tool of sub.manifest.tools) add(tool, false);
      for (const tool of sub.dynamicTools) add(tool, true);
    });
    const nextRoutes = new Map<string, ToolRoute>();
    const nextTools: ToolDefinition[] = [];
    for (const entry of named) {
      // Several plugins in one file or package with the same tool name: qualify them all
      // with their plugin's name rather than hide one.
      const shared = (counts.get(entry.name) ?? 0) > 1;
      const name = shared ? `${entry.source.manifest.id.split('.').pop() ?? entry.source.manifest.id}.${entry.name}` : entry.name;
      nextRoutes.set(name, entry.route);
      nextTools.push(toToolDefinition(name, entry.source, notGranted));
    }
    routes = nextRoutes;
    tools = nextTools;
    rebuildPrompts(named.map((entry, index) => ({ name: nextTools[index]?.name ?? entry.name, tool: entry.source.tool })));
    const next = JSON.stringify(nextTools);
    const changed = next !== fingerprint;
    fingerprint = next;
    return changed;
  };

  /** `usage` hints become slash-command prompts; system contexts become a `context` prompt. */
  const rebuildPrompts = (entries: readonly { name: string; tool: ReportedTool }[]): void => {
    const nextPrompts: PromptDefinition[] = [];
    const nextRoutes = new Map<string, PromptRoute>();
    const add = (definition: PromptDefinition, route: PromptRoute): void => {
      if (nextRoutes.has(definition.name)) {
        logger.warn({ prompt: definition.name }, `two prompts are called "${definition.name}"; only the first is offered`);
        return;
      }
      nextRoutes.set(definition.name, route);
      nextPrompts.push(definition);
    };
    subPlugins.forEach((sub, index) => {
      if (!sub.manifest.injects_context || !sub.systemContext) return;
      const name = subPlugins.length === 1 ? 'context' : `${sub.manifest.id.split('.').pop() ?? sub.manifest.id}_context`;
      const title = sub.manifest.name ?? sub.manifest.id;
      add(
        { name, title: `${title}: context`, description: `What ${title} tells the assistant about this conversation (its system-prompt contribution).` },
        { kind: 'context', plugin: index, name: title },
      );
    });
    for (const { name, tool } of entries) {
      const command = tool.usage !== undefined ? parseUsage(tool.usage) : undefined;
      if (!command) continue;
      const properties = (tool.parameters?.properties ?? {}) as Record<string, { description?: unknown }>;
      add(
        {
          name: command.command,
          title: tool.usage,
          ...(tool.description !== undefined && { description: tool.description }),
          arguments: command.arguments.map((argument) => {
            const description = properties[argument.name]?.description;
            return { name: argument.name, required: argument.required, ...(typeof description === 'string' && { description }) };
          }),
        },
        { kind: 'usage', tool: name, description: tool.description },
      );
    }
    prompts = nextPrompts;
    promptRoutes = nextRoutes;
  };

  const applyLoad = (result: LoadResult): void => {
    if (result.plugins.length === 0) {
      throw new Error('no ScaiWave plugin found: define a class that extends app.plugins.base.BasePlugin, or a BUILTIN_PLUGINS list');
    }
    const next: SubPlugin[] = result.plugins.map((reported) => {
      const manifest = toManifest(reported.manifest, reported.class);
      const dynamicTools = reported.dynamic_tools
        ? toDynamicTools(reported.dynamic_tools, (message) => logger.error({ class: reported.class }, message))
        : [];
      if (reported.sync_execute) logger.info({ class: reported.class }, 'execute_tool is synchronous; its calls run in a worker thread');
      return { className: reported.class, manifest, dynamicTools, systemContext: reported.system_context };
    });
    const ids = new Set<string>();
    for (const sub of next) {
      if (ids.has(sub.manifest.id)) throw new Error(`two plugins have the manifest id "${sub.manifest.id}"`);
      ids.add(sub.manifest.id);
    }
    subPlugins = next;
    if (rebuildTools() && host !== undefined) context.toolsChanged();
  };

  const onNotification = (method: string, params: Record<string, unknown>): void => {
    if (method === 'log') {
      const level = typeof params.level === 'string' ? params.level : 'info';
      const message = redact(typeof params.message === 'string' ? params.message : '');
      const fields = { pythonLogger: params.logger, ...(typeof params.call_id === 'string' && { callId: params.call_id }) };
      if (level === 'debug') logger.debug(fields, message);
      else if (level === 'info') logger.info(fields, message);
      else if (level === 'warning') logger.warn(fields, message);
      else logger.error(fields, message);
      return;
    }
    if (method === 'dynamic_tools') {
      const index = typeof params.plugin === 'number' ? params.plugin : -1;
      const sub = subPlugins[index];
      if (!sub || !Array.isArray(params.tools)) return;
      sub.dynamicTools = toDynamicTools(params.tools, (message) => logger.error({ class: sub.className }, message));
      if (rebuildTools()) {
        logger.info({ class: sub.className, tools: sub.dynamicTools.map((tool) => tool.name) }, 'dynamic tools changed');
        context.toolsChanged();
      }
      return;
    }
    if (method === 'event') {
      const callId = typeof params.call_id === 'string' ? params.call_id : undefined;
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(redact(JSON.stringify({ event: params.method, scope: params.scope, args: params.args, kwargs: params.kwargs }))) as Record<string, unknown>;
      } catch {
        event = { event: params.method };
      }
      logger.info({ ...event, callId }, 'plugin event');
      if (callId !== undefined) inflight.get(callId)?.log('info', { plugin: label, ...event });
    }
  };

  // A plugin asks its caller (approval, elicitation, sampling) the way every plugin kind
  // does: through the call's client requests, which end the call with input_required on
  // 2026-07-28 (the call runs again with the answer) and with -32021 when the client
  // cannot be asked. The Python side sees an error in those cases; its answer is not used.
  const onRequest = async (method: string, params: Record<string, unknown>): Promise<unknown> => {
    const callId = typeof params.call_id === 'string' ? params.call_id : undefined;
    const call = callId === undefined ? undefined : inflight.get(callId);
    if ((method === 'approval' || method === 'elicit' || method === 'sample') && !call) throw new Error(`${method} was requested outside a running tool call`);
    if (method === 'approval' && call) {
      const what = typeof params.method === 'string' ? params.method : 'request';
      const result = await call.client.elicit({
        message: [`The plugin ${label} asks for approval: ${what}`, `Arguments: ${JSON.stringify({ args: params.args, kwargs: params.kwargs })}`].join('\n'),
        requestedSchema: {
          type: 'object',
          properties: {
            approve: { type: 'boolean', title: 'Approve' },
            reason: { type: 'string', title: 'Reason', description: 'Told to the plugin.' },
          },
          required: ['approve'],
        },
      });
      const approved = result.action === 'accept' && result.content?.approve === true;
      const reason = typeof result.content?.reason === 'string' ? result.content.reason : approved ? 'approved by the user' : `the user answered ${result.action}`;
      logger.info({ callId: call.context.callId, method: what, approved }, 'plugin approval request answered');
      return { approved, reason };
    }
    if (method === 'elicit' && call) {
      const schema = params.schema as ElicitRequestFormParams['requestedSchema'];
      return call.client.elicit({ message: typeof params.message === 'string' ? params.message : '', requestedSchema: schema });
    }
    if (method === 'sample' && call) {
      const result = await call.client.sample({
        messages: [{ role: 'user', content: { type: 'text', text: typeof params.prompt === 'string' ? params.prompt : '' } }],
        maxTokens: typeof params.max_tokens === 'number' ? params.max_tokens : 512,
        ...(typeof params.system_prompt === 'string' && { systemPrompt: params.system_prompt }),
      });
      const blocks = (Array.isArray(result.content) ? result.content : [result.content]) as { type: string; text?: string }[];
      return { text: blocks.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join(''), model: result.model };
    }
    return Promise.reject(new Error(`unknown host request ${method}`));
  };

  const onOutput = (stream: 'stdout' | 'stderr', line: string): void => {
    const text = redact(line);
    if (stream === 'stderr') {
      stderrTail.push(text);
      if (stderrTail.length > stderrTailLines) stderrTail.shift();
      logger.warn({ stream }, text);
    } else {
      logger.info({ stream }, text);
    }
  };

  /** Whether a host started early was taken (at most one is: set when claimed, before launch's first await). */
  let tookEarlyHost = false;

  /** Starts a host and loads the plugin in it; `signals` (the first load's deadline) also stop it. */
  const launch = async (...signals: (AbortSignal | undefined)[]): Promise<Started> => {
    stderrTail.length = 0;
    const hostOptions = {
      command: isolation.command,
      sandboxed: isolation.sandbox !== undefined,
      script: options.hostScript,
      cwd,
      env,
      handlers: { onNotification, onRequest, onOutput },
      cancelGraceMs: options.cancelGraceMs,
    };
    const early = context.earlyHosts?.claim(describeHost(hostOptions));
    if (early) tookEarlyHost = true;
    let started: HostProcess;
    try {
      started = await startHostProcess({ ...hostOptions, early });
    } catch (error) {
      throw new Error(describeMissingPython(options.python, error), { cause: error });
    }
    // The plugin is imported only where bwrap is known to work. A host started early has run in
    // its sandbox since before toolport loaded; if it ended instead, the load request fails and
    // a host of our own replaces it (below). A new host waits for bwrap's first run.
    if (!started.early) {
      try {
        await isolation.confirm?.();
      } catch (error) {
        started.kill('the sandbox cannot be made here');
        throw error;
      }
    }
    let raw: unknown;
    // A host started early was not checked by bwrap's run. Should its load not answer soon (a
    // bwrap that hangs would never), the check runs after all, and a refusal ends the load in
    // bwrap's words rather than as a timeout. A healthy plugin that imports slowly passes it.
    const sandboxRefused = new AbortController();
    const lateCheck =
      started.early && isolation.confirm
        ? setTimeout(() => {
            isolation.confirm?.().catch((error: unknown) => sandboxRefused.abort(error));
          }, earlyHostCheckAfterMs)
        : undefined;
    const deadline = createDeadline(options.loadTimeoutMs, () => new DOMException('load timed out', 'TimeoutError'), lifecycle.closeSignal, sandboxRefused.signal, ...signals);
    try {
      raw = await started.request(
        'load',
        {
          path: options.path,
          settings: options.settings,
          tenant: options.tenant,
          user_token: options.userToken ?? null,
          services: options.services,
          grants: options.guard,
          default_ctx: defaultCtx,
          dynamic_refresh_seconds: options.dynamicToolsRefreshSeconds,
          log_level: pythonLevels[logger.level] ?? 'INFO',
        },
        { signal: deadline.signal },
      );
    } catch (error) {
      started.kill('loading failed');
      await started.exited;
      if (sandboxRefused.signal.aborted) throw sandboxRefused.signal.reason;
      // A host started early that ended before it answered: once more, with a host of its own.
      if (started.early && error instanceof HostExitedError && !lifecycle.closed && !signals.some((signal) => signal?.aborted)) return launch(...signals);
      if (error instanceof HostRequestError) {
        logger.debug({ traceback: redact(error.info.traceback ?? '') }, 'plugin import failed');
        throw new Error(redact(describeHostError(error.info)), { cause: error });
      }
      if (error instanceof HostExitedError) {
        const last = stderrTail.filter((line) => line.trim() !== '').at(-1);
        throw new Error(`the Python host ${describeExit(error.exit)} while loading the plugin${last ? `: ${last}` : ''}`, { cause: error });
      }
      if (error instanceof DOMException && error.name === 'TimeoutError') {
        throw new Error(`loading the plugin took longer than ${options.loadTimeoutMs / 1000} s (does it block at import?)`, { cause: error });
      }
      throw error;
    } finally {
      clearTimeout(lateCheck);
      deadline.dispose();
    }
    const parsed = loadResultSchema.safeParse(raw, parsedOnce);
    if (!parsed.success) {
      started.kill('unreadable load answer');
      throw new Error('the Python host answered the load request with something toolport cannot read');
    }
    return { host: started, result: parsed.data };
  };

  const watch = (started: HostProcess): void => {
    void started.exited.then((exit: HostExit) => {
      if (host === started) host = undefined;
      if (lifecycle.closed) return;
      const lived = Date.now() - started.startedAt;
      consecutiveCrashes = lived > stableAfterMs ? 1 : consecutiveCrashes + 1;
      logger.warn({ pid: started.pid, code: exit.code, signal: exit.signal, livedMs: lived }, `the Python host ${describeExit(exit)}; it is restarted on the next call`);
    });
  };

  /** The running host, else one started (or `launched`, the first one, already starting). */
  const ensureHost = (signal?: AbortSignal, launched?: Promise<Started>): Promise<HostProcess> => {
    if (host?.alive) return Promise.resolve(host);
    starting ??= (async () => {
      // First restart at once; a host that keeps dying waits longer each time.
      const delay = consecutiveCrashes <= 1 ? 0 : Math.min(250 * 2 ** (consecutiveCrashes - 2), maxBackoffMs);
      if (delay > 0) {
        logger.info({ delayMs: delay }, 'waiting before restarting the Python host');
        await sleep(delay, lifecycle.closeSignal);
      }
      if (lifecycle.closed) throw new Error('closed');
      let started: Started;
      try {
        started = await (launched ?? launch());
      } catch (error) {
        consecutiveCrashes += 1;
        throw error;
      }
      if (lifecycle.closed) {
        await started.host.close(closeGraceMs);
        throw new Error('closed');
      }
      host = started.host;
      if (everStarted) context.report?.('restart');
      everStarted = true;
      watch(started.host);
      applyLoad(started.result);
      keepForNextStart(started);
      logger.info({ pid: started.host.pid, early: started.host.early }, 'Python host started');
      return started.host;
    })().finally(() => {
      starting = undefined;
    });
    return raceSignal(starting, signal);
  };

  // The interpreter's answer kept from the last start was used; if the fresh one differs (a
  // shim now pointing at another Python), later hosts start with it and a running one is replaced.
  void isolation.changed?.then(async (next) => {
    if (!next || lifecycle.closed) return;
    isolation = next;
    env = environmentFor(next.sandbox);
    logger.warn({ command: next.command.at(-1) }, 'the Python interpreter changed since the last start; the host restarts with it');
    // The host to replace: one starting again, the running one, or the first, still loading the plugin.
    const current = starting ? await starting.catch(() => undefined) : (host ?? (await launching.then((started) => started.host, () => undefined)));
    if (current?.alive && !lifecycle.closed) await current.close(closeGraceMs);
  });

  // The host's start is the longest part of a load, so it begins now, while the load cache is
  // read (with a kept answer the host starts behind the tools read from there; without one its
  // answer is the load) and while bwrap's first run confirms that the sandbox works (the plugin
  // is imported only after that).
  const refused = new AbortController();
  const launching = launch(context.signal, refused.signal);
  launching.catch(() => {});

  const cacheFile = cacheFileFor(context.cacheDir, options.path, options.python);
  let sourceFingerprint: string;
  let cached: LoadResult | undefined;
  try {
    sourceFingerprint = fingerprintSources(options.path, isPackage, options.hostScript, {
      python: options.python,
      settings: options.settings,
      tenant: options.tenant,
      services: options.services,
      guard: options.guard,
      sandbox: options.sandbox,
      env: options.grantedEnv.map((name) => [name, process.env[name]]),
      userToken: options.userToken !== undefined ? createHash('sha256').update(options.userToken).digest('hex') : null,
    });
    cached = readLoadCache(cacheFile, sourceFingerprint);
    // Tools are listed only where bwrap works: a host started early shows it by answering its
    // load (if that fails, bwrap is run to say why); else bwrap is run once.
    await (tookEarlyHost ? launching.then(() => undefined, () => isolation.confirm?.()) : isolation.confirm?.());
  } catch (error) {
    // Not loaded after all: the host that began starting is stopped, however far it got.
    refused.abort(error);
    launching.then((started) => started.host.kill('the plugin did not load'), () => {});
    throw error;
  }
  /** The plugins whose get_system_context makes the instructions. */
  const contextSources = (): number[] => subPlugins.flatMap((sub, index) => (sub.manifest.injects_context && sub.systemContext ? [index] : []));
  /**
   * What the next start uses of a host that loaded the plugin: its load answer, and (initialize
   * waits for a plugin that gives instructions) whether to start such a host early.
   */
  const keepForNextStart = (started: Started): void => {
    writeLoadCache(cacheFile, sourceFingerprint, started.result).catch((error: unknown) => logger.debug({ err: error }, 'could not keep the load answer'));
    context.earlyHosts?.decide(options.path, started.host.description, contextSources().length > 0);
  };
  let applied = false;
  if (cached) {
    // Same sources and config as last time: list the tools now, start the host behind them.
    try {
      applyLoad(cached);
      applied = true;
      logger.debug('tools read from the load cache; the Python host starts in the background');
      ensureHost(undefined, launching).catch((error: unknown) => {
        // Closed before it was up (a command that only lists tools): nothing went wrong.
        const closed = error instanceof ToolportError && error.code === ErrorCode.ShuttingDown;
        logger[closed ? 'debug' : 'error']({ err: error }, `the Python host did not start: ${(error as Error).message}`);
      });
    } catch {
      applied = false;
    }
  }
  if (!applied) {
    // The first start happens now: its failure is this plugin's load error.
    let first: Started;
    try {
      first = await launching;
    } catch (error) {
      throw new ToolportError(ErrorCode.PluginLoadFailed, (error as Error).message, { cause: error });
    }
    try {
      applyLoad(first.result);
    } catch (error) {
      await first.host.close(closeGraceMs);
      throw new ToolportError(ErrorCode.PluginLoadFailed, (error as Error).message, { cause: error });
    }
    host = first.host;
    watch(first.host);
    keepForNextStart(first);
    logger.info({ pid: first.host.pid, early: first.host.early, python: first.result.python, plugins: subPlugins.map((sub) => sub.manifest.id) }, 'Python host ready');
  }
  for (const tool of tools) {
    const route = routes.get(tool.name);
    const missing = route ? notGranted(route.required) : [];
    if (missing.length > 0) logger.warn({ tool: tool.name, missing }, 'tool needs permissions that are not granted; its calls will be refused');
  }

  const single = subPlugins.length === 1 ? subPlugins[0] : undefined;
  const id = single ? single.manifest.id : sourceName;


  /** get_system_context of the given plugins, for one session. */
  const systemContexts = async (
    indices: readonly number[],
    session: { callId: string; principal: string; sessionId?: string | undefined; client?: { name: string } | undefined },
    signal: AbortSignal,
  ): Promise<{ name: string; text: string }[]> => {
    const running = await ensureHost(signal);
    const ctx = { call_id: session.callId, room_id: session.sessionId ?? session.principal, sender_id: session.client?.name ?? session.principal, principal: session.principal };
    const answer = (await running.request('system_context', { ctx, plugins: indices }, { signal })) as { contexts?: unknown };
    const contexts = Array.isArray(answer.contexts) ? (answer.contexts as { plugin?: unknown; text?: unknown }[]) : [];
    return contexts.flatMap((entry) => {
      const sub = typeof entry.plugin === 'number' ? subPlugins[entry.plugin] : undefined;
      return sub && typeof entry.text === 'string' ? [{ name: sub.manifest.name ?? sub.manifest.id, text: redact(entry.text) }] : [];
    });
  };
  const instructions = async (session: SessionInfo, signal: AbortSignal): Promise<string | undefined> => {
    const sources = contextSources();
    if (sources.length === 0) return undefined;
    const texts = await systemContexts(sources, { callId: 'instructions', ...session }, signal);
    if (texts.length === 0) return undefined;
    return texts.map((entry) => `## ${entry.name}\n${entry.text}`).join('\n\n');
  };

  const hostFailure = (tool: string, error: unknown): ToolportError => {
    if (lifecycle.closed) return new ToolportError(ErrorCode.ShuttingDown, `${tool} was stopped: the server is shutting down`, { pluginId: id, cause: error });
    if (error instanceof HostExitedError) {
      return new ToolportError(ErrorCode.PluginCrashed, `${tool} failed: the plugin's Python process ${describeExit(error.exit)} during the call; it is restarted for the next call`, {
        pluginId: id,
        cause: error,
      });
    }
    return new ToolportError(ErrorCode.PluginCrashed, `${tool} failed: the plugin's Python process could not be started; see the server log`, {
      pluginId: id,
      cause: error,
      detail: redact(describeThrown(error)),
    });
  };

  return {
    id,
    kind: 'python',
    diagnostics: isolation.diagnostics,
    ...(single?.manifest.version !== undefined && { version: single.manifest.version }),
    ...(single?.manifest.description !== undefined && { description: single.manifest.description }),
    get tools() {
      return tools;
    },
    get prompts() {
      return prompts;
    },
    async getPrompt(name, args, promptOptions): Promise<PromptOutcome> {
      const route = promptRoutes.get(name);
      if (!route) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown prompt: ${name}`, { pluginId: id });
      if (route.kind === 'usage') {
        const exposed = promptOptions.toolName(route.tool) ?? route.tool;
        const given = Object.entries(args).filter(([, value]) => value !== '');
        const text =
          `Use the tool \`${exposed}\`${route.description ? ` (${route.description})` : ''}` +
          (given.length > 0 ? ` with these arguments:\n${given.map(([key, value]) => `- ${key}: ${value}`).join('\n')}` : '.');
        return { messages: [{ role: 'user', content: { type: 'text', text } }] };
      }
      const texts = await systemContexts([route.plugin], promptOptions.context, promptOptions.signal);
      const text = texts[0]?.text ?? `${route.name} adds nothing to the system prompt for this conversation.`;
      return { description: `System context of ${route.name}`, messages: [{ role: 'user', content: { type: 'text', text } }] };
    },
    // Offered only while one of its plugins injects context: a start served from the kept
    // catalogue (adapters/kept-catalogue.ts) then knows that a session's instructions need not
    // wait for this host.
    get instructions() {
      return contextSources().length > 0 ? instructions : undefined;
    },
    call: (tool, args, callOptions) => lifecycle.run(tool, callOptions, ({ signal }) => callTool(tool, args, callOptions, signal)),
    close: () =>
      lifecycle.close(async () => {
        try {
          await starting?.catch(() => undefined);
        } finally {
          const running = host;
          host = undefined;
          if (running) await running.close(closeGraceMs);
        }
      }),
  };

  async function callTool(tool: string, args: Record<string, unknown>, callOptions: CallOptions, signal: AbortSignal): Promise<ToolOutcome> {
    const { context: callContext } = callOptions;
    const route = routes.get(tool);
    if (!route) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${tool}`, { pluginId: id });
    // Declared permissions are checked by the policy layer before the call gets here.
    let running: HostProcess;
    try {
      running = await ensureHost(signal);
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw hostFailure(tool, error);
    }
    // Request ids repeat across sessions; the host gets a key of its own for each call.
    const callKey = `c${++nextCall}`;
    const ctx = {
      call_id: callKey,
      room_id: callContext.sessionId ?? callContext.principal,
      sender_id: callContext.client?.name ?? callContext.principal,
      principal: callContext.principal,
    };
    inflight.set(callKey, callOptions);
    try {
      const answer = (await running.request('call', { plugin: route.plugin, tool: route.tool, args: JSON.stringify(args), ctx }, { signal })) as {
        text?: unknown;
      };
      const text = typeof answer.text === 'string' ? answer.text : '';
      const outcome: ToolOutcome = { content: [textContent(text)] };
      if (fallbackLine.test(text)) outcome.isError = true;
      return outcome;
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof HostRequestError) {
        // The plugin raised: the model gets the exception, the log gets the traceback.
        logger.warn({ tool, callId: callContext.callId, traceback: redact(error.info.traceback ?? '') }, `tool raised ${error.info.type}`);
        return { content: [textContent(redact(`${error.info.type}: ${error.info.message}`))], isError: true };
      }
      throw hostFailure(tool, error);
    } finally {
      inflight.delete(callKey);
    }
  }
}

/** Where the plugin's code is, resolved against the config's folder. */
export function resolvePluginPath(path: string, baseDir: string): string {
  return resolve(baseDir, path);
}

const hostScript = fileURLToPath(new URL('./host/main.py', import.meta.url));

/** Loads the plugin a `python` config block names. */
export function loadPythonSpec(spec: PythonSpec, context: AdapterContext): Promise<LoadedPlugin> {
  const defaultPython = process.env.TOOLPORT_PYTHON ?? (process.platform === 'win32' ? 'python' : 'python3');
  const python = spec.python !== undefined && /[\\/]/.test(spec.python) ? resolvePluginPath(spec.python, context.baseDir) : (spec.python ?? defaultPython);
  const services = Object.fromEntries(Object.entries(spec.services).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return loadPythonPlugin(
    {
      path: resolvePluginPath(spec.path, context.baseDir),
      python,
      hostScript,
      settings: spec.settings,
      tenant: spec.tenant,
      userToken: spec.userToken,
      services,
      grantedEnv: spec.grants.env,
      grants: spec.grants,
      guard: {
        network: spec.grants.network,
        subprocess: spec.allowSubprocess,
        files: Object.fromEntries(Object.entries(spec.grants.files).map(([path, mode]) => [resolvePluginPath(path, context.baseDir), mode])),
      },
      dynamicToolsRefreshSeconds: spec.dynamicToolsRefreshSeconds,
      configId: spec.id,
      // The config's load deadline (a heavy import may need more than 30 s), for each load of the host.
      loadTimeoutMs: context.loadTimeoutMs ?? 30_000,
      cancelGraceMs: 2_000,
      sandbox: spec.sandbox,
    },
    context,
  );
}
