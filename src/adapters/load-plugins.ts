// Loads the configured plugins: each block's kind is detected, its block validated by the
// kind's spec, its adapter imported and asked to load it, all plugins at once, each within
// defaults.loadTimeoutSeconds. A plugin that fails or misses its deadline is a diagnostic that
// names its config entry; the others load regardless, and a late one joins when it is ready.
import { createDeadline } from '../core/abort.js';
import { ErrorCode, ToolportError, describeThrown, isToolportError } from '../core/errors.js';
import { formatZodIssues } from '../core/format.js';
import { compileGlobs } from '../core/glob.js';
import type { AdapterContext, LoadedPlugin, PluginBlock } from '../core/plugin.js';
import type { Diagnostic, RegisteredPlugin } from '../core/registry.js';
import type { SecretSet } from '../core/redact.js';
import { detectPlugins } from './detect.js';
import { adapters, secretsOf } from './index.js';

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
}

type LoadResult = { readonly plugin: LoadedPlugin } | { readonly error: unknown } | { readonly late: true };

export interface LoadedPlugins {
  /** In config order. */
  readonly plugins: RegisteredPlugin[];
  readonly diagnostics: Diagnostic[];
}

export async function loadPlugins(blocks: readonly PluginBlock[], options: LoadPluginsOptions): Promise<LoadedPlugins> {
  const diagnostics: Diagnostic[] = [];
  const { plugins: detected, problems } = await detectPlugins(blocks);
  for (const problem of problems) {
    diagnostics.push({ level: 'error', message: `plugins[${problem.index}] ${problem.path}: ${problem.message}` });
  }
  const { secrets, loadTimeoutSeconds, shutdown, onLateLoad, ...context } = options;

  const loads = detected.map(async ({ entry, index }): Promise<RegisteredPlugin | undefined> => {
    const where = `plugins[${index}] ${entry.path}`;
    const kind = adapters[entry.kind];
    const parsed = kind.spec.safeParse(entry);
    if (!parsed.success) {
      const lines = formatZodIssues(parsed.error.issues, ['plugins', index]);
      diagnostics.push({ level: 'error', message: `${where}: invalid plugin config:\n  ${lines.join('\n  ')}` });
      return undefined;
    }
    const spec = parsed.data;
    secrets.add(...secretsOf(spec, process.env));
    const adapter = await kind.load();
    const tooLate = `did not load within ${loadTimeoutSeconds} s (defaults.loadTimeoutSeconds); the other plugins are served without it`;
    const deadline = createDeadline(loadTimeoutSeconds * 1000, () => new ToolportError(ErrorCode.PluginLoadFailed, tooLate), shutdown);
    const loading = adapter.load(spec, { ...context, signal: deadline.signal, configPath: `plugins[${index}]` });
    const result = await Promise.race<LoadResult>([
      loading.then(
        (plugin) => ({ plugin }),
        (error: unknown) => ({ error }),
      ),
      new Promise<LoadResult>((resolve) => deadline.signal.addEventListener('abort', () => resolve({ late: true }), { once: true })),
    ]);
    deadline.dispose();
    const toRegistered = (plugin: LoadedPlugin): RegisteredPlugin => ({
      id: spec.id ?? plugin.id,
      plugin,
      timeoutSeconds: spec.timeoutSeconds,
      source: entry.path,
      grants: spec.grants,
      configPath: `plugins[${index}]`,
      ...(spec.readOnly && { readOnly: compileGlobs(spec.readOnly) }),
    });
    if ('late' in result) {
      const late = { level: 'error' as const, message: `${where}: ${tooLate}` };
      diagnostics.push(late);
      const started = performance.now();
      loading.then(
        (plugin) => {
          const registered = toRegistered(plugin);
          if (onLateLoad?.(registered)) {
            diagnostics.splice(diagnostics.indexOf(late), 1, { level: 'warning', message: `${where}: loaded ${Math.round(performance.now() - started) / 1000} s after its deadline` });
          } else {
            void plugin.close().catch(() => {});
          }
        },
        (error: unknown) => context.logger.debug({ err: error, plugin: entry.path }, 'a plugin past its load deadline failed'),
      );
      return undefined;
    }
    if ('error' in result) {
      const { error } = result;
      const raw = isToolportError(error) ? error.shortMessage : describeThrown(error);
      // Adapters name the file in their messages for direct use; here `where` already does.
      const message = raw.startsWith(`${entry.path}: `) ? raw.slice(entry.path.length + 2) : raw;
      context.logger.debug({ err: error, plugin: entry.path }, 'plugin failed to load');
      diagnostics.push({ level: 'error', message: `${where}: ${message}` });
      return undefined;
    }
    const registered = toRegistered(result.plugin);
    const { plugin, id } = registered;
    for (const diagnostic of plugin.diagnostics ?? []) {
      diagnostics.push({
        level: diagnostic.level,
        message: `${where}: ${diagnostic.message}`,
        pluginId: id,
        ...(diagnostic.tool !== undefined && { tool: diagnostic.tool }),
      });
    }
    return registered;
  });
  const plugins = (await Promise.all(loads)).filter((entry): entry is RegisteredPlugin => entry !== undefined);
  return { plugins, diagnostics };
}
