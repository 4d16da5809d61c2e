// Loads the configured plugins: each block's kind is detected and its block validated by the
// kind's spec (a block that does not fit is a config error, before anything loads), then
// each adapter is imported (those marked `first` before the others) and asked to load its
// plugins, all at once, each within defaults.loadTimeoutSeconds (its adapter's import
// included). A plugin that fails or misses its deadline is a diagnostic that
// names its config entry; the others load regardless, and a late one joins when it is ready.
import { createDeadline } from '../core/abort.js';
import { ConfigError, ErrorCode, ToolportError, describeThrown, isToolportError } from '../core/errors.js';
import type { Issue } from '../core/format.js';
import { compileGlobs } from '../core/glob.js';
import type { AdapterContext, LoadedPlugin, PluginBlock, PluginEvent, PluginKind } from '../core/plugin.js';
import type { Diagnostic, RegisteredPlugin } from '../core/registry.js';
import type { SecretSet } from '../core/redact.js';
import { detectPlugins } from './detect.js';
import { adapters, secretsOf, type AnyPluginSpec } from './index.js';
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
}

export interface LoadedPlugins {
  /** In config order. */
  readonly plugins: RegisteredPlugin[];
  /** In config order; a late plugin's "did not load" error becomes a warning when it arrives. */
  readonly diagnostics: Diagnostic[];
}

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
  const { secrets, loadTimeoutSeconds, shutdown, onLateLoad, onPluginEvent, ...context } = options;

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

  // Each kind's adapter is imported once, the kinds marked `first` before the others.
  const kinds = [...new Set(specs.map(({ entry }) => entry.kind))];
  const imports = new Map(kinds.filter((kind) => adapters[kind].first).map((kind) => [kind, adapters[kind].load()]));
  const firstsIn = Promise.allSettled(imports.values());
  for (const kind of kinds) if (!imports.has(kind)) imports.set(kind, firstsIn.then(() => adapters[kind].load()));

  const loads = specs.map(async ({ entry, index, spec }): Promise<{ index: number; loaded?: RegisteredPlugin; diagnostics: Diagnostic[] }> => {
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
    const loading = imports.get(entry.kind)!.then((adapter) => adapter.load(spec, { ...context, signal: deadline.signal, configPath, ...(report && { report }) }));
    const result = await Promise.race<LoadResult>([
      loading.then(
        (plugin) => ({ plugin }),
        (error: unknown) => ({ error }),
      ),
      new Promise<LoadResult>((resolve) => deadline.signal.addEventListener('abort', () => resolve({ late: true }), { once: true })),
    ]);
    deadline.dispose();
    const toRegistered = (plugin: LoadedPlugin): RegisteredPlugin => {
      reportedId = spec.id ?? plugin.id;
      return {
      id: spec.id ?? plugin.id,
      plugin,
      timeoutSeconds: spec.timeoutSeconds,
      source: entry.path,
      grants: spec.grants,
      configPath,
      ...(spec.readOnly && { readOnly: compileGlobs(spec.readOnly) }),
      };
    };
    if ('late' in result) {
      // Changed in place when the plugin arrives, wherever the list has got to by then.
      const late: { level: Diagnostic['level']; message: string } = { level: 'error', message: `${where}: ${tooLate}` };
      found.push(late);
      const started = performance.now();
      loading.then(
        (plugin) => {
          if (onLateLoad?.(toRegistered(plugin))) {
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
  });
  const results = await Promise.all(loads);
  for (const result of results) byEntry[result.index]?.push(...result.diagnostics);
  const plugins = results.flatMap((result) => (result.loaded ? [result.loaded] : []));
  return { plugins, diagnostics: byEntry.flat() };
}
