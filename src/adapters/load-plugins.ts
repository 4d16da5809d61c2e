// Loads the configured plugins: each block's kind is detected and its block validated by the
// kind's spec (a block that does not fit is a config error, before anything loads), then
// each adapter is imported (those marked `first` before the others) and asked to load its
// plugins, all at once, each within defaults.loadTimeoutSeconds (its adapter's import
// included). A plugin that fails or misses its deadline is a diagnostic that
// names its config entry; the others load regardless, and a late one joins when it is ready.
import { createDeadline, raceSignal, sleep } from '../core/abort.js';
import { ConfigError, ErrorCode, ToolportError, describeThrown, isToolportError } from '../core/errors.js';
import { isUrl, type Issue } from '../core/format.js';
import { compileGlobs } from '../core/glob.js';
import type { AdapterContext, LoadedPlugin, PluginBlock, PluginEvent, PluginKind } from '../core/plugin.js';
import type { Diagnostic, RegisteredPlugin } from '../core/registry.js';
import type { SecretSet } from '../core/redact.js';
import { detectPlugins } from './detect.js';
import { adapters, secretsOf, type AnyPluginSpec } from './index.js';
import { catalogueEntry, keepPlugin, provisionalPlugin, readKept } from './kept-catalogue.js';
import { toPluginSpec } from './plugin-blocks.js';

export interface LoadPluginsOptions extends AdapterContext {
  /** Secret values of each plugin block are added here before the plugin loads. */
  readonly secrets: SecretSet;
  /** `defaults.loadTimeoutSeconds`. */
  readonly loadTimeoutSeconds: number;
  /** Fires when the server stops: loads still running are told to stop. */
  readonly shutdown?: AbortSignal;
  /**
   * A plugin that missed its deadline finished loading after all. Without this (or when it
   * returns false) the plugin is closed again.
   */
  readonly onLateLoad?: (plugin: RegisteredPlugin) => boolean;
  /** A plugin's process was restarted or its sandbox refused something (for the metrics). */
  readonly onPluginEvent?: (pluginId: string, event: PluginEvent) => void;
  /**
   * Serve from the kept catalogue (kept-catalogue.ts): a plugin whose record matches is
   * returned at once as a provisional plugin, and its real load starts when `until` settles.
   * Every plugin that loads is recorded for the next start.
   */
  readonly kept?: KeptCatalogueOptions;
}

export interface KeptCatalogueOptions {
  /** toolport's version: a record of another version is not used. */
  readonly version: string;
  /**
   * Held-back loads start when this settles, or each when someone waits for it (a call, a
   * prompt, instructions); a plugin that gives instructions is not held back.
   */
  readonly until: Promise<void>;
  /**
   * The real plugin behind `provisional` loaded (`real`), or did not (`real` undefined; the
   * diagnostics say why). Its diagnostics come here, not in the list loadPlugins returned.
   */
  readonly settled: (provisional: RegisteredPlugin, real: RegisteredPlugin | undefined, diagnostics: Diagnostic[]) => void;
}

export interface LoadedPlugins {
  /** In config order. */
  readonly plugins: RegisteredPlugin[];
  /** In config order; a late plugin's "did not load" error becomes a warning when it arrives. */
  readonly diagnostics: Diagnostic[];
}

/** How long a server that stops waits for a load still running to give up, to close what it made. */
const shutdownWaitMs = 5_000;

type LoadResult = { readonly plugin: LoadedPlugin } | { readonly error: unknown } | { readonly late: true };

interface Detected {
  readonly entry: PluginBlock & { readonly kind: PluginKind };
  readonly index: number;
  readonly spec: AnyPluginSpec;
}

export async function loadPlugins(blocks: readonly PluginBlock[], options: LoadPluginsOptions): Promise<LoadedPlugins> {
  // Reported in config order, whichever plugin finished loading first.
  const byEntry: Diagnostic[][] = blocks.map(() => []);
  const { plugins: detected, problems } = await detectPlugins(blocks);
  for (const problem of problems) {
    const at = problem.at ? `:${problem.at.line}:${problem.at.column}` : '';
    byEntry[problem.index]?.push({ level: 'error', message: `plugins[${problem.index}] ${problem.path}${at}: ${problem.message}` });
  }
  const { secrets, loadTimeoutSeconds, shutdown, onLateLoad, onPluginEvent, kept, ...context } = options;

  // Every block must fit its kind before any plugin starts.
  const kindsOfEntry = new Map<number, PluginKind[]>();
  for (const { entry, index } of detected) kindsOfEntry.set(index, [...(kindsOfEntry.get(index) ?? []), entry.kind]);
  const issues: Issue[] = [];
  const specs = detected.flatMap(({ entry, index }): Detected[] => {
    const siblings = (kindsOfEntry.get(index) ?? []).filter((kind) => kind !== entry.kind);
    const checked = toPluginSpec(entry, ['plugins', index], siblings);
    if (checked.issues) {
      const where = entry.path === blocks[index]?.path ? '' : ` (for ${entry.path})`;
      issues.push(...checked.issues.map((issue) => ({ ...issue, message: issue.message + where })));
      return [];
    }
    return [{ entry, index, spec: checked.spec }];
  });
  if (issues.length > 0) throw new ConfigError(issues);

  // Each kind's adapter is imported once: the kinds marked `first` at once, the others (after
  // those) when a plugin of theirs first loads, which a load held back for the kept catalogue
  // does not yet.
  const kinds = [...new Set(specs.map(({ entry }) => entry.kind))];
  const imports = new Map(kinds.filter((kind) => adapters[kind].first).map((kind) => [kind, adapters[kind].load()]));
  const firstsIn = Promise.allSettled(imports.values());
  const adapterOf = (kind: PluginKind): ReturnType<(typeof adapters)[PluginKind]['load']> => {
    let adapter = imports.get(kind);
    if (!adapter) {
      adapter = firstsIn.then(() => adapters[kind].load());
      imports.set(kind, adapter);
    }
    return adapter;
  };

  /** How the registry knows a plugin of this block (the config's id, else the plugin's own). */
  const registeredAs = ({ entry, index, spec }: Detected, plugin: LoadedPlugin): RegisteredPlugin => ({
    id: spec.id ?? plugin.id,
    plugin,
    timeoutSeconds: spec.timeoutSeconds,
    source: entry.path,
    grants: spec.grants,
    configPath: `plugins[${index}]`,
    ...(spec.readOnly && { readOnly: compileGlobs(spec.readOnly) }),
  });

  type Outcome = { index: number; loaded?: RegisteredPlugin; diagnostics: Diagnostic[] };
  /** `joinedLate` hears of a plugin that arrived after its deadline and was added after all. */
  const loadOne = async (detected: Detected, joinedLate?: (plugin: LoadedPlugin) => void): Promise<Outcome> => {
    const { entry, index, spec } = detected;
    const found: Diagnostic[] = [];
    const where = `plugins[${index}] ${entry.path}`;
    const configPath = `plugins[${index}]`;
    secrets.add(...secretsOf(spec, process.env));
    const tooLate = `did not load within ${loadTimeoutSeconds} s (defaults.loadTimeoutSeconds); the other plugins are served without it`;
    const deadline = createDeadline(loadTimeoutSeconds * 1000, () => new ToolportError(ErrorCode.PluginLoadFailed, tooLate), shutdown);
    // The plugin's id is known once it loaded (the config's, else its own).
    let reportedId = spec.id ?? entry.path;
    const report = onPluginEvent && ((event: PluginEvent): void => onPluginEvent(reportedId, event));
    const loadStarted = performance.now();
    // An adapter that cannot be imported is this plugin's load error, like any other.
    const loading = adapterOf(entry.kind).then((adapter) => adapter.load(spec, { ...context, signal: deadline.signal, loadTimeoutMs: loadTimeoutSeconds * 1000, configPath, ...(report && { report }) }));
    const result = await Promise.race<LoadResult>([
      loading.then(
        (plugin) => ({ plugin }),
        (error: unknown) => ({ error }),
      ),
      new Promise<LoadResult>((resolve) => deadline.signal.addEventListener('abort', () => resolve({ late: true }), { once: true })),
    ]);
    deadline.dispose();
    const toRegistered = (plugin: LoadedPlugin): RegisteredPlugin => {
      const registered = registeredAs(detected, plugin);
      reportedId = registered.id;
      return registered;
    };
    if ('late' in result && shutdown?.aborted) {
      // Stopped by the server's shutdown, not by its deadline (a load in the background for the
      // kept catalogue may be): what the load still makes is closed before the server exits.
      const stopWaiting = new AbortController();
      const made = await Promise.race([loading.catch(() => undefined), sleep(shutdownWaitMs, stopWaiting.signal).then(() => undefined, () => undefined)]);
      stopWaiting.abort();
      // One that arrives later still is closed when it does.
      if (made) await made.close().catch(() => {});
      else loading.then((plugin) => void plugin.close().catch(() => {}), () => {});
      context.logger.debug({ plugin: entry.path }, 'the server stopped while the plugin was loading');
      return { index, diagnostics: [{ level: 'info', message: `${where}: not loaded: the server stopped first` }] };
    }
    if ('late' in result) {
      // Changed in place when the plugin arrives, wherever the list has got to by then.
      const late: { level: Diagnostic['level']; message: string } = { level: 'error', message: `${where}: ${tooLate}` };
      found.push(late);
      const started = performance.now();
      loading.then(
        (plugin) => {
          if (onLateLoad?.(toRegistered(plugin))) {
            joinedLate?.(plugin);
            late.level = 'warning';
            late.message = `${where}: loaded ${Math.round(performance.now() - started) / 1000} s after its deadline`;
          } else {
            void plugin.close().catch(() => {});
          }
        },
        (error: unknown) => context.logger.debug({ err: error, plugin: entry.path }, 'a plugin past its load deadline failed'),
      );
      return { index, diagnostics: found };
    }
    if ('error' in result) {
      const { error } = result;
      const raw = isToolportError(error) ? error.shortMessage : describeThrown(error);
      // Adapters name the file in their messages for direct use; here `where` already does
      // (and a `file:line:column` stays one piece).
      const message = raw.startsWith(`${entry.path}:`) ? raw.slice(entry.path.length) : `: ${raw}`;
      context.logger.debug({ err: error, plugin: entry.path }, 'plugin failed to load');
      found.push({ level: 'error', message: `${where}${message}` });
      return { index, diagnostics: found };
    }
    const loaded = toRegistered(result.plugin);
    context.logger.debug({ plugin: loaded.id, kind: entry.kind, ms: Math.round(performance.now() - loadStarted) }, 'plugin loaded');
    for (const diagnostic of result.plugin.diagnostics ?? []) {
      found.push({
        level: diagnostic.level,
        message: `${where}: ${diagnostic.message}`,
        pluginId: loaded.id,
        ...(diagnostic.tool !== undefined && { tool: diagnostic.tool }),
      });
    }
    return { index, loaded, diagnostics: found };
  };

  const loads = specs.map(async (detected): Promise<Outcome> => {
    if (!kept) return loadOne(detected);
    const { entry, index, spec } = detected;
    const record = catalogueEntry(context.cacheDir, spec, isUrl(entry.path) ? undefined : entry.path, secretsOf(spec, process.env), kept.version);
    const previous = readKept(record);
    const keepLoaded = (plugin: LoadedPlugin): void => {
      keepPlugin(record, plugin, previous).catch((error: unknown) => context.logger.debug({ err: error, plugin: entry.path }, 'could not keep the plugin in the catalogue'));
    };
    const keep = (outcome: Outcome): Outcome => {
      if (outcome.loaded) keepLoaded(outcome.loaded.plugin);
      return outcome;
    };
    if (!previous) return keep(await loadOne(detected, keepLoaded));
    // Listed from the record now; loaded for real once the server is serving (or someone waits).
    let arrive!: (plugin: LoadedPlugin) => void;
    let fail!: (error: unknown) => void;
    const real = new Promise<LoadedPlugin>((resolvePlugin, rejectPlugin) => {
      arrive = resolvePlugin;
      fail = rejectPlugin;
    });
    // Woken on its own when someone waits for it; one that gives instructions loads at once
    // (a client's first request, initialize, needs them).
    let wake!: () => void;
    const woken = new Promise<void>((resolveWake) => (wake = resolveWake));
    if (previous.plugin.instructions) wake();
    const provisional = registeredAs(detected, provisionalPlugin(previous.plugin, real, wake));
    // The model hears that it did not load; why (paths, the plugin's own words) goes to the log.
    const notLoaded = (why: { detail: string } | { cause: unknown }): ToolportError =>
      new ToolportError(ErrorCode.PluginLoadFailed, `plugin ${provisional.id} did not load; see the server log`, { pluginId: provisional.id, ...why });
    context.logger.debug({ plugin: provisional.id, kind: entry.kind }, 'tools listed from the kept catalogue; the plugin loads in the background');
    let settledOnce = false;
    void (async () => {
      await raceSignal(Promise.race([kept.until, woken]), shutdown).catch(() => undefined);
      if (shutdown?.aborted) {
        fail(new ToolportError(ErrorCode.ShuttingDown, 'the server is shutting down', { pluginId: provisional.id }));
        return;
      }
      const outcome = keep(await loadOne(detected, keepLoaded));
      if (outcome.loaded) arrive(outcome.loaded.plugin);
      else fail(notLoaded({ detail: outcome.diagnostics.find((diagnostic) => diagnostic.level === 'error')?.message ?? 'it did not load' }));
      settledOnce = true;
      kept.settled(provisional, outcome.loaded, outcome.diagnostics);
    })().catch((error: unknown) => {
      // Not loaded after all: withdrawn like a plugin whose load failed (settled at most once).
      fail(notLoaded({ cause: error }));
      context.logger.error({ err: error, plugin: provisional.id }, 'loading a plugin listed from the kept catalogue failed');
      if (!settledOnce) kept.settled(provisional, undefined, [{ level: 'error', message: `plugins[${index}] ${entry.path}: ${describeThrown(error)}` }]);
    });
    return { index, loaded: provisional, diagnostics: [] };
  });
  const results = await Promise.all(loads);
  for (const result of results) byEntry[result.index]?.push(...result.diagnostics);
  const plugins = results.flatMap((result) => (result.loaded ? [result.loaded] : []));
  return { plugins, diagnostics: byEntry.flat() };
}
