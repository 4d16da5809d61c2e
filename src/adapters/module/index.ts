// The `module` kind: a JS/TS file exporting a plugin written for toolport, in the
// BasePlugin shape (`manifest` with tools, `executeTool(name, args, ctx)`), run in-process.
import { basename, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { formatZodIssues } from '../../config/load.js';
import { ErrorCode, ToolportError, describeThrown } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { toToolOutcome } from '../../core/outcome.js';
import { textContent, type CallOptions, type ToolDefinition } from '../../core/tool.js';
import { basePluginSpecShape, defineAdapter, type AdapterContext, type LoadedPlugin } from '../types.js';

export const moduleSpecSchema = z.strictObject({
  ...basePluginSpecShape,
  kind: z.literal('module'),
});
export type ModuleSpec = z.output<typeof moduleSpecSchema>;

const jsonSchemaObject = z.record(z.string(), z.unknown());

const toolSchema = z.looseObject({
  name: z.string().min(1, 'must be a non-empty string'),
  title: z.string().optional(),
  description: z.string().optional(),
  /** JSON Schema of the arguments (`inputSchema` is accepted as a synonym). */
  parameters: jsonSchemaObject.optional(),
  inputSchema: jsonSchemaObject.optional(),
  outputSchema: jsonSchemaObject.optional(),
  annotations: z.record(z.string(), z.unknown()).optional(),
  sideEffects: z.boolean().optional(),
  permissions: z.array(z.string()).optional(),
});

const manifestSchema = z.looseObject({
  id: z.string().min(1).optional(),
  name: z.string().optional(),
  version: z.string().optional(),
  description: z.string().optional(),
  tools: z.array(toolSchema),
  permissions: z.array(z.string()).optional(),
});
type Manifest = z.output<typeof manifestSchema>;

/** What `executeTool` receives as its third argument. */
export interface ModuleToolContext {
  readonly signal: AbortSignal;
  readonly progress: CallOptions['progress'];
  readonly log: CallOptions['log'];
  /** Ask the user (form elicitation); undefined when the client cannot be asked. */
  readonly elicit: CallOptions['client']['elicit'];
  /** Ask the client's model (sampling); undefined when the client cannot be asked. */
  readonly sample: CallOptions['client']['sample'];
  readonly principal: string;
  readonly sessionId: string | undefined;
  readonly callId: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
}

/** What a plugin's optional `init(host)` receives. */
export interface ModulePluginHost {
  readonly settings: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  /** Call after changing `manifest.tools`; clients are told the list changed. */
  toolsChanged(): void;
}

interface ModulePlugin {
  readonly manifest: unknown;
  executeTool(name: string, args: Record<string, unknown>, ctx: ModuleToolContext): unknown;
  init?(host: ModulePluginHost): unknown;
  close?(): unknown;
}

function isModulePlugin(value: unknown): value is ModulePlugin {
  return (
    typeof value === 'object' &&
    value !== null &&
    'manifest' in value &&
    typeof (value as { executeTool?: unknown }).executeTool === 'function'
  );
}

async function importFile(path: string): Promise<Record<string, unknown>> {
  const extension = extname(path).toLowerCase();
  if (extension === '.ts' || extension === '.mts' || extension === '.cts') {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(pathToFileURL(path).href)) as Record<string, unknown>;
}

/** Finds the plugin among a module's exports: an object, a class, or a factory function. */
async function instantiate(exports: Record<string, unknown>, host: ModulePluginHost): Promise<ModulePlugin | undefined> {
  const candidate = exports.default ?? exports.plugin;
  if (isModulePlugin(candidate)) return candidate;
  if (typeof candidate === 'function') {
    const prototype = (candidate as { prototype?: { executeTool?: unknown } }).prototype;
    const made: unknown =
      prototype && typeof prototype.executeTool === 'function'
        ? new (candidate as new (host: ModulePluginHost) => unknown)(host)
        : await (candidate as (host: ModulePluginHost) => unknown)(host);
    if (isModulePlugin(made)) return made;
  }
  return undefined;
}

function toDefinitions(manifest: Manifest): ToolDefinition[] {
  return manifest.tools.map((tool) => ({
    name: tool.name,
    ...(tool.title !== undefined && { title: tool.title }),
    ...(tool.description !== undefined && { description: tool.description }),
    inputSchema: tool.parameters ?? tool.inputSchema ?? { type: 'object', properties: {} },
    ...(tool.outputSchema !== undefined && { outputSchema: tool.outputSchema }),
    ...(tool.annotations !== undefined && { annotations: tool.annotations }),
    ...(tool.sideEffects !== undefined && { sideEffects: tool.sideEffects }),
    ...((tool.permissions ?? manifest.permissions) && { permissions: tool.permissions ?? manifest.permissions }),
  }));
}

async function loadModulePlugin(spec: ModuleSpec, context: AdapterContext): Promise<LoadedPlugin> {
  const fail = (message: string, cause?: unknown): ToolportError =>
    new ToolportError(ErrorCode.PluginLoadFailed, `${spec.path}: ${message}`, { cause });
  let exports: Record<string, unknown>;
  try {
    exports = await importFile(spec.path);
  } catch (error) {
    throw fail(`cannot import the module (${describeThrown(error)})`, error);
  }
  const logger = context.logger.child({ plugin: spec.id ?? basename(spec.path) });
  const host: ModulePluginHost = { settings: spec.settings, logger, toolsChanged: context.toolsChanged };
  let plugin: ModulePlugin | undefined;
  try {
    plugin = await instantiate(exports, host);
  } catch (error) {
    throw fail(`creating the plugin failed (${describeThrown(error)})`, error);
  }
  if (!plugin) {
    throw fail('exports no plugin: export default (or `plugin`) an object, class or factory with `manifest` and `executeTool(name, args, ctx)`');
  }
  const readManifest = (): Manifest => {
    const parsed = manifestSchema.safeParse(plugin.manifest);
    if (!parsed.success) throw fail(`invalid manifest:\n  ${formatZodIssues(parsed.error.issues, ['manifest']).join('\n  ')}`);
    return parsed.data;
  };
  let manifest = readManifest();
  let tools = toDefinitions(manifest);
  if (typeof plugin.init === 'function') {
    try {
      await plugin.init(host);
    } catch (error) {
      throw fail(`init() failed (${describeThrown(error)})`, error);
    }
  }
  const id = manifest.id ?? manifest.name ?? basename(spec.path, extname(spec.path));
  let closed: Promise<void> | undefined;

  return {
    id,
    kind: 'module',
    ...(manifest.version !== undefined && { version: manifest.version }),
    ...(manifest.description !== undefined && { description: manifest.description }),
    get tools() {
      // The manifest may be a getter that changes; re-read it, but keep the last good list.
      try {
        manifest = readManifest();
        tools = toDefinitions(manifest);
      } catch (error) {
        logger.error({ err: error }, 'the plugin manifest became invalid; keeping the previous tool list');
      }
      return tools;
    },
    async call(tool, args, options) {
      const ctx: ModuleToolContext = {
        signal: options.signal,
        progress: options.progress,
        log: options.log,
        elicit: options.client.elicit,
        sample: options.client.sample,
        principal: options.context.principal,
        sessionId: options.context.sessionId,
        callId: options.context.callId,
        settings: spec.settings,
        logger,
      };
      let value: unknown;
      try {
        value = await plugin.executeTool(tool, args, ctx);
      } catch (error) {
        // A throw is how a JS plugin reports failure: the model sees the message.
        if (options.signal.aborted) throw options.signal.reason;
        logger.debug({ err: error, tool }, 'tool threw');
        return { content: [textContent(describeThrown(error))], isError: true };
      }
      return toToolOutcome(value, tool, id);
    },
    close() {
      closed ??= (async () => {
        if (typeof plugin.close === 'function') await plugin.close();
      })();
      return closed;
    },
  };
}

export const moduleAdapter = defineAdapter<ModuleSpec>({
  kind: 'module',
  spec: moduleSpecSchema,
  load: loadModulePlugin,
});
