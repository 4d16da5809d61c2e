// Tools registered in code (`toolport.registerTool`, or a hook module's `registerTool`), in the
// spirit of EvoClaw's RegisterTool: each registering party is one in-process plugin whose tool
// list can grow and shrink, so its tools go through the same pipeline as any plugin's.
import { ErrorCode, ToolportError, describeThrown } from './errors.js';
import type { LoadedPlugin } from './plugin.js';
import { toToolOutcome } from './outcome.js';
import { textContent, toToolDefinition, type CallOptions, type DeclaredTool, type ToolDefinition } from './tool.js';

/** What `execute` receives besides the arguments. Never carries tokens. */
export interface HostToolContext {
  readonly signal: AbortSignal;
  readonly progress: CallOptions['progress'];
  readonly log: CallOptions['log'];
  readonly principal: string;
  readonly sessionId: string | undefined;
  readonly callId: string;
}

export interface HostTool extends DeclaredTool {
  /**
   * Runs the tool. Return a string, an MCP-shaped `{ content, structuredContent?, isError? }`,
   * or any JSON value; throw to report a failure the model should see.
   */
  execute(args: Record<string, unknown>, context: HostToolContext): unknown;
}

export interface HostPlugin extends LoadedPlugin {
  /** Adds a tool; throws when the name is taken. Returns the function that removes it. */
  add(tool: HostTool): () => void;
}

/** An in-process plugin for tools registered in code. `changed` is called when its list changes. */
export function createHostPlugin(id: string, changed: () => void): HostPlugin {
  const tools = new Map<string, HostTool>();
  let definitions: ToolDefinition[] = [];
  const rebuild = (): void => {
    definitions = [...tools.values()].map(toToolDefinition);
    changed();
  };
  return {
    id,
    kind: 'module',
    get tools() {
      return definitions;
    },
    add(tool) {
      if (typeof tool.name !== 'string' || tool.name === '') throw new TypeError('registerTool: the tool needs a non-empty "name"');
      if (typeof tool.execute !== 'function') throw new TypeError(`registerTool: tool "${tool.name}" needs an "execute" function`);
      if (tools.has(tool.name)) throw new TypeError(`registerTool: "${id}" already has a tool named "${tool.name}"`);
      tools.set(tool.name, tool);
      rebuild();
      return () => {
        if (tools.get(tool.name) === tool) {
          tools.delete(tool.name);
          rebuild();
        }
      };
    },
    async call(name, args, options) {
      const tool = tools.get(name);
      if (!tool) throw new ToolportError(ErrorCode.PluginCrashed, `${name} is no longer registered`, { pluginId: id });
      let value: unknown;
      try {
        value = await tool.execute(args, new ToolRunContext(options));
      } catch (error) {
        if (options.signal.aborted) throw options.signal.reason;
        return { content: [textContent(error instanceof Error ? error.message : describeThrown(error))], isError: true };
      }
      return toToolOutcome(value, name, id);
    },
    close: () => Promise.resolve(),
  };
}

/** Where a tool's context keeps what `signal` comes from: a symbol, so keys, JSON and a Proxy of the context behave. */
const signalSource = Symbol('toolport.signal');

/**
 * What a tool run in this process gets (a registered tool's context; a module tool's `ctx`
 * adds to it). `signal` is read through a getter on this class, so the call's AbortController
 * (a few µs each on Node 20) is made only for a tool that reads it; not an object literal with
 * a getter, which costs each call far more (see core/call-signal.ts).
 */
export class ToolRunContext implements HostToolContext {
  readonly progress: CallOptions['progress'];
  readonly log: CallOptions['log'];
  readonly principal: string;
  readonly sessionId: string | undefined;
  readonly callId: string;
  readonly [signalSource]: { readonly signal: AbortSignal };
  /** `running`: where the signal comes from when not `options` (a plugin lifecycle's own call). */
  constructor(options: CallOptions, running: { readonly signal: AbortSignal } = options) {
    this[signalSource] = running;
    this.progress = options.progress;
    this.log = options.log;
    this.principal = options.context.principal;
    this.sessionId = options.context.sessionId;
    this.callId = options.context.callId;
  }
  get signal(): AbortSignal {
    return this[signalSource].signal;
  }
}
