// Hook modules named in the config (`hooks: [./audit-hook.js]`): each is imported once at
// start-up and handed a host to subscribe with `on(...)` and add tools with `registerTool(...)`.
// A hook module that cannot load stops start-up: running without a guard would fail open.
import { basename, extname } from 'node:path';
import { z } from 'zod';
import { ErrorCode, ToolportError, describeThrown } from '../core/errors.js';
import type { HostTool } from '../core/host-tools.js';
import { importModule } from '../core/import-module.js';
import type { Logger } from '../core/logger.js';
import { toSafeName } from '../core/naming.js';
import { pluginIdPattern, pluginIdRule } from '../core/plugin.js';
import { hookEventNames, type HookBus, type HookEventName, type HookHandler, type HookOptions } from './hooks.js';

export const hookEntrySchema = z
  .union([
    z.string().min(1, 'must be the path of a hook module'),
    z.strictObject({
      path: z.string().min(1, 'must be the path of a hook module'),
      /** The prefix of tools this module registers; default: the file name. */
      id: z.string().regex(pluginIdPattern, pluginIdRule).optional(),
      /** Time limit for each run of one of this module's handlers. */
      timeoutSeconds: z.number().positive().max(600).optional(),
      /** Handed to the module as `host.settings`. */
      settings: z.record(z.string(), z.unknown()).default({}),
    }),
  ], { error: 'must be the path of a hook module, or { path, id?, timeoutSeconds?, settings? }' })
  .transform((entry) => (typeof entry === 'string' ? { path: entry, settings: {} } : entry));

export type HookEntry = z.output<typeof hookEntrySchema>;

/** What a hook module's register function receives. */
export interface HookHost {
  /** Subscribes to an event; handlers run in registration order. Returns the unsubscribe function. */
  on<E extends HookEventName>(event: E, handler: HookHandler<E>, options?: HookOptions): () => void;
  /** Adds a tool served like any plugin's (prefix: the module's id). Returns the function that removes it. */
  registerTool(tool: HostTool): () => void;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  /** `server.name` from the config. */
  readonly serverName: string;
}

export interface HookModuleContext {
  bus: HookBus;
  logger: Logger;
  serverName: string;
  /** Registers a tool for the plugin `id`. */
  registerTool(id: string, tool: HostTool): () => void;
}

/** Loads every configured hook module in order; throws a CONFIG_INVALID error naming the entry. */
export async function loadHookModules(entries: readonly HookEntry[], context: HookModuleContext): Promise<void> {
  for (const [index, entry] of entries.entries()) {
    const where = `hooks[${index}] (${entry.path})`;
    const fail = (message: string, cause?: unknown): ToolportError =>
      new ToolportError(ErrorCode.ConfigInvalid, `${where}: ${message}`, { cause });
    let exports: Record<string, unknown>;
    try {
      exports = await importModule(entry.path);
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(entry.path);
      throw fail(missing ? 'file not found' : `cannot import the module (${describeThrown(error)})`, error);
    }
    const name = basename(entry.path);
    const id = entry.id ?? toSafeName(basename(entry.path, extname(entry.path))).slice(0, 32);
    const defaults: HookOptions = { name, ...(entry.timeoutSeconds !== undefined && { timeoutMs: entry.timeoutSeconds * 1000 }) };
    const host: HookHost = {
      on: (event, handler, options) => {
        if (!hookEventNames.includes(event)) throw new TypeError(`on(): unknown event "${String(event)}"; expected one of ${hookEventNames.join(', ')}`);
        return context.bus.on(event, handler, { ...defaults, ...options });
      },
      registerTool: (tool) => context.registerTool(id, tool),
      settings: entry.settings,
      logger: context.logger.child({ hook: name }),
      serverName: context.serverName,
    };
    const candidate = exports.default ?? exports.register;
    try {
      if (typeof candidate === 'function') {
        await (candidate as (host: HookHost) => unknown)(host);
      } else if (typeof candidate === 'object' && candidate !== null) {
        // An object of handlers keyed by event name: { tool_call(event) {...}, tool_result(event) {...} }.
        const handlers = Object.entries(candidate);
        const unknown = handlers.filter(([key]) => !hookEventNames.includes(key as HookEventName)).map(([key]) => key);
        if (unknown.length > 0) throw new TypeError(`unknown event${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; expected ${hookEventNames.join(', ')}`);
        for (const [event, handler] of handlers) {
          if (typeof handler !== 'function') throw new TypeError(`the handler for ${event} is not a function`);
          host.on(event as HookEventName, handler as HookHandler<HookEventName>);
        }
      } else {
        throw fail('exports no hooks: export default a function (host) => { host.on(...) }, or an object of handlers by event name');
      }
    } catch (error) {
      if (error instanceof ToolportError) throw error;
      throw fail(`registering its hooks failed (${describeThrown(error)})`, error);
    }
    context.logger.info({ hook: name }, 'hook module loaded');
  }
}
