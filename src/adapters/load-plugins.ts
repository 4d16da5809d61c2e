// Loads the configured plugins: each block's kind is detected and its block validated by the
// kind's spec (a block that does not fit is a config error, before anything loads), then
// each adapter is imported and asked to load its plugins, all at once. A plugin that fails
// to load is a diagnostic that names its config entry; the others load regardless.
import { ConfigError, describeThrown, isToolportError } from '../core/errors.js';
import type { Issue } from '../core/format.js';
import type { AdapterContext, PluginBlock, PluginKind } from '../core/plugin.js';
import type { Diagnostic, RegisteredPlugin } from '../core/registry.js';
import type { SecretSet } from '../core/redact.js';
import { detectPlugins } from './detect.js';
import { adapters, secretsOf } from './index.js';
import { toPluginSpec } from './plugin-blocks.js';

export interface LoadPluginsOptions extends AdapterContext {
  /** Secret values of each plugin block are added here before the plugin loads. */
  readonly secrets: SecretSet;
}

export interface LoadedPlugins {
  /** In config order. */
  readonly plugins: RegisteredPlugin[];
  readonly diagnostics: Diagnostic[];
}

export async function loadPlugins(blocks: readonly PluginBlock[], options: LoadPluginsOptions): Promise<LoadedPlugins> {
  // Reported in config order, whichever plugin finished loading first.
  const byEntry: Diagnostic[][] = blocks.map(() => []);
  const { plugins: detected, problems } = await detectPlugins(blocks);
  for (const problem of problems) {
    const at = problem.at ? `:${problem.at.line}:${problem.at.column}` : '';
    byEntry[problem.index]?.push({ level: 'error', message: `plugins[${problem.index}] ${problem.path}${at}: ${problem.message}` });
  }
  const { secrets, ...context } = options;

  // Every block must fit its kind before any plugin starts.
  const kindsOfEntry = new Map<number, PluginKind[]>();
  for (const { entry, index } of detected) kindsOfEntry.set(index, [...(kindsOfEntry.get(index) ?? []), entry.kind]);
  const issues: Issue[] = [];
  const specs = detected.flatMap(({ entry, index }) => {
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

  const loads = specs.map(async ({ entry, index, spec }): Promise<{ index: number; loaded?: RegisteredPlugin; diagnostics: Diagnostic[] }> => {
    const diagnostics: Diagnostic[] = [];
    const where = `plugins[${index}] ${entry.path}`;
    secrets.add(...secretsOf(spec, process.env));
    const adapter = await adapters[entry.kind].load();
    let plugin;
    try {
      plugin = await adapter.load(spec, context);
    } catch (error) {
      const raw = isToolportError(error) ? error.shortMessage : describeThrown(error);
      // Adapters name the file in their messages for direct use; here `where` already does
      // (and a `file:line:column` stays one piece).
      const message = raw.startsWith(`${entry.path}:`) ? raw.slice(entry.path.length) : `: ${raw}`;
      context.logger.debug({ err: error, plugin: entry.path }, 'plugin failed to load');
      diagnostics.push({ level: 'error', message: `${where}${message}` });
      return { index, diagnostics };
    }
    const id = spec.id ?? plugin.id;
    for (const diagnostic of plugin.diagnostics ?? []) {
      diagnostics.push({
        level: diagnostic.level,
        message: `${where}: ${diagnostic.message}`,
        pluginId: id,
        ...(diagnostic.tool !== undefined && { tool: diagnostic.tool }),
      });
    }
    const loaded = { id, plugin, timeoutSeconds: spec.timeoutSeconds, source: entry.path, grants: spec.grants, configPath: `plugins[${index}]` };
    return { index, loaded, diagnostics };
  });
  const results = await Promise.all(loads);
  for (const result of results) byEntry[result.index]?.push(...result.diagnostics);
  const plugins = results.flatMap((result) => (result.loaded ? [result.loaded] : []));
  return { plugins, diagnostics: byEntry.flat() };
}
