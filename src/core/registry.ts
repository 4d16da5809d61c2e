// The registry: which exposed name leads to which plugin and tool. It names tools,
// compiles their schemas once, disables a colliding later tool with a diagnostic, and keeps a
// deterministic order for tools/list.
import type { Tool } from '@modelcontextprotocol/server';
import type { GlobMatcher } from './glob.js';
import type { Grants, LoadedPlugin, PluginKind } from './plugin.js';
import type { Logger } from './logger.js';
import { defaultNaming, groupByExposedName, type NamingOptions } from './naming.js';
import { type SchemaCompiler, type Validator } from './schema.js';
import { declaredSideEffects, isPlainObject, type JsonSchemaObject, type SideEffects, type ToolDefinition } from './tool.js';

export interface RegisteredPlugin {
  /** The prefix of this plugin's tools: the config `id`, else the plugin's own id. */
  readonly id: string;
  readonly plugin: LoadedPlugin;
  /** The plugin block's `timeoutSeconds`, when the config sets one (it overrides the tools' own). */
  readonly timeoutSeconds: number | undefined;
  /** Where the plugin came from, for diagnostics. */
  readonly source: string;
  /** What the config grants the plugin. */
  readonly grants: Grants;
  /** Where its block is in the config, e.g. `plugins[2]`, for messages that say what to change. */
  readonly configPath: string;
  /** The config's `readOnly` globs over the plugin's own tool names. */
  readonly readOnly?: GlobMatcher | undefined;
}

export interface ExposedTool {
  readonly name: string;
  readonly plugin: RegisteredPlugin;
  readonly kind: PluginKind;
  readonly definition: ToolDefinition;
  /** What the plugin or the config says about the tool's side effects. */
  readonly sideEffects: SideEffects;
  readonly validateInput: Validator;
  readonly validateOutput: Validator | undefined;
  /** The tool as tools/list shows it. */
  readonly mcpTool: Tool;
}

export interface Diagnostic {
  /** `info` reports how a plugin runs (e.g. its sandbox); only errors fail `toolport check`. */
  readonly level: 'error' | 'warning' | 'info';
  readonly message: string;
  readonly pluginId?: string;
  readonly tool?: string;
}

export interface Registry {
  /** Every enabled tool, sorted by exposed name. */
  readonly tools: readonly ExposedTool[];
  readonly diagnostics: readonly Diagnostic[];
  get(name: string): ExposedTool | undefined;
  setPlugins(plugins: readonly RegisteredPlugin[]): void;
  /** Re-reads every plugin's tool list (after a plugin signalled a change). */
  refresh(): void;
  /** Called after a rebuild changed what tools/list shows. */
  onChange(listener: () => void): () => void;
}

export interface RegistryOptions {
  naming?: NamingOptions;
  compiler: SchemaCompiler;
  logger: Logger;
}

/** The `_meta` key under which a tool's origin is shown to clients. */
export const originMetaKey = 'toolport/origin';

interface Candidate {
  plugin: RegisteredPlugin;
  definition: ToolDefinition;
}

export function createRegistry(options: RegistryOptions): Registry {
  const naming = options.naming ?? defaultNaming;
  const { logger } = options;
  let plugins: readonly RegisteredPlugin[] = [];
  let tools: ExposedTool[] = [];
  let byName = new Map<string, ExposedTool>();
  let diagnostics: Diagnostic[] = [];
  let fingerprint = '';
  const listeners = new Set<() => void>();

  function rebuild(): void {
    const nextDiagnostics: Diagnostic[] = [];
    const candidates: Candidate[] = [];
    for (const plugin of plugins) {
      const seen = new Set<string>();
      for (const definition of plugin.plugin.tools) {
        if (seen.has(definition.name)) {
          nextDiagnostics.push({
            level: 'error',
            pluginId: plugin.id,
            tool: definition.name,
            message: `plugin "${plugin.id}" declares tool "${definition.name}" more than once; only the first is used`,
          });
          continue;
        }
        seen.add(definition.name);
        candidates.push({ plugin, definition });
      }
    }

    const groups = groupByExposedName(candidates, naming, (candidate) => ({ pluginId: candidate.plugin.id, name: candidate.definition.name }));

    const nextTools: ExposedTool[] = [];
    for (const [name, group] of groups) {
      // The first in config order keeps the name; later ones are disabled and reported.
      const [first, ...later] = group as [Candidate, ...Candidate[]];
      for (const candidate of later) {
        nextDiagnostics.push({
          level: 'error',
          pluginId: candidate.plugin.id,
          tool: candidate.definition.name,
          message:
            `tool name collision on "${name}": tool "${candidate.definition.name}" of plugin "${candidate.plugin.id}" (${candidate.plugin.source}) ` +
            `would get the name that tool "${first.definition.name}" of plugin "${first.plugin.id}" (${first.plugin.source}) already has; ` +
            'it is disabled; give one of the plugins a different "id" in the config',
        });
      }
      const exposed = toExposedTool(name, first, nextDiagnostics);
      if (exposed) nextTools.push(exposed);
    }

    nextTools.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    tools = nextTools;
    byName = new Map(nextTools.map((tool) => [tool.name, tool]));
    diagnostics = nextDiagnostics;
    for (const diagnostic of nextDiagnostics) {
      logger.warn({ plugin: diagnostic.pluginId, tool: diagnostic.tool }, diagnostic.message);
    }

    const nextFingerprint = JSON.stringify(nextTools.map((tool) => tool.mcpTool));
    if (nextFingerprint !== fingerprint) {
      const first = fingerprint === '';
      fingerprint = nextFingerprint;
      if (!first) for (const listener of listeners) listener();
    }
  }

  function toExposedTool(name: string, candidate: Candidate, out: Diagnostic[]): ExposedTool | undefined {
    const { plugin, definition } = candidate;
    const problem = (message: string): undefined => {
      out.push({ level: 'error', pluginId: plugin.id, tool: definition.name, message: `tool "${definition.name}" of plugin "${plugin.id}": ${message}; the tool is disabled` });
      return undefined;
    };
    if (!isPlainObject(definition.inputSchema)) return problem('its input schema is not an object');
    // MCP requires an object schema for inputs; a schema that says nothing about type gets it.
    const inputSchema: JsonSchemaObject =
      definition.inputSchema.type === undefined ? { type: 'object', ...definition.inputSchema } : definition.inputSchema;
    if (inputSchema.type !== 'object') return problem(`its input schema has type ${JSON.stringify(inputSchema.type)}, expected "object"`);
    let validateInput: Validator;
    let validateOutput: Validator | undefined;
    try {
      validateInput = options.compiler.compile(inputSchema);
    } catch (error) {
      return problem(`its input schema is not valid JSON Schema (${(error as Error).message})`);
    }
    if (definition.outputSchema !== undefined) {
      if (!isPlainObject(definition.outputSchema)) return problem('its output schema is not an object');
      try {
        validateOutput = options.compiler.compile(definition.outputSchema);
      } catch (error) {
        return problem(`its output schema is not valid JSON Schema (${(error as Error).message})`);
      }
    }
    const mcpTool: Tool = {
      name,
      ...(definition.title !== undefined && { title: definition.title }),
      ...(definition.description !== undefined && { description: definition.description }),
      inputSchema: inputSchema as Tool['inputSchema'],
      ...(definition.outputSchema !== undefined && { outputSchema: definition.outputSchema }),
      ...(definition.annotations !== undefined && { annotations: definition.annotations }),
      _meta: {
        ...definition.meta,
        // Kept small (a catalogue of a thousand tools carries it a thousand times): what the
        // name and annotations do not already say. `toolport list` shows the rest.
        [originMetaKey]: {
          plugin: plugin.id,
          tool: definition.name,
          ...(definition.permissions && definition.permissions.length > 0 && { permissions: [...definition.permissions] }),
        },
      },
    };
    const sideEffects = plugin.readOnly?.(definition.name) ? 'none' : declaredSideEffects(definition);
    return { name, plugin, kind: plugin.plugin.kind, definition, sideEffects, validateInput, validateOutput, mcpTool };
  }

  return {
    get tools() {
      return tools;
    },
    get diagnostics() {
      return diagnostics;
    },
    get: (name) => byName.get(name),
    setPlugins(next) {
      plugins = [...next];
      rebuild();
    },
    refresh: rebuild,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
