// Loads the configured plugins: each block's kind is detected, its block validated by the
// kind's spec, its adapter imported and asked to load it, all plugins at once. A plugin that
// fails is a diagnostic that names its config entry; the others load regardless.
import { describeThrown, isToolportError } from '../core/errors.js';
import { formatZodIssues } from '../core/format.js';
import type { AdapterContext, PluginBlock } from '../core/plugin.js';
import type { Diagnostic, RegisteredPlugin } from '../core/registry.js';
import type { SecretSet } from '../core/redact.js';
import { detectPlugins } from './detect.js';
import { adapters, secretsOf } from './index.js';

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
  const diagnostics: Diagnostic[] = [];
  const { plugins: detected, problems } = await detectPlugins(blocks);
  for (const problem of problems) {
    diagnostics.push({ level: 'error', message: `plugins[${problem.index}] ${problem.path}: ${problem.message}` });
  }
  const { secrets, ...context } = options;

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
    let plugin;
    try {
      plugin = await adapter.load(spec, { ...context, configPath: `plugins[${index}]` });
    } catch (error) {
      const raw = isToolportError(error) ? error.shortMessage : describeThrown(error);
      // Adapters name the file in their messages for direct use; here `where` already does.
      const message = raw.startsWith(`${entry.path}: `) ? raw.slice(entry.path.length + 2) : raw;
      context.logger.debug({ err: error, plugin: entry.path }, 'plugin failed to load');
      diagnostics.push({ level: 'error', message: `${where}: ${message}` });
      return undefined;
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
    return { id, plugin, timeoutSeconds: spec.timeoutSeconds, source: entry.path, grants: spec.grants, configPath: `plugins[${index}]` };
  });
  const plugins = (await Promise.all(loads)).filter((entry): entry is RegisteredPlugin => entry !== undefined);
  return { plugins, diagnostics };
}
