// The plugin runs the tool with one signal for the call (client cancellation, the
// call's deadline, shutdown) and the call's progress and log channels. The deadline is
// resolved here, once: the plugin's config limit, else the tool's own, else the default.
import { createCallSignal } from '../core/call-signal.js';
import { ErrorCode, ToolportError, describeThrown, isToolportError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ExposedTool } from '../core/registry.js';
import type { CallSignal } from '../core/call-signal.js';
import type { CallContext, CallDeadline, CallOptions, ToolOutcome } from '../core/tool.js';
import type { HookBus } from '../policy/hooks.js';
import type { ToolCall } from './call.js';

export interface CallPluginDeps {
  readonly shutdown: AbortSignal;
  readonly hooks: HookBus;
  readonly logger: Logger;
  /** `defaults.timeoutSeconds`. */
  readonly defaultTimeoutSeconds: number;
}

const noop = (): void => {};

/** The time limit of one call of `tool`, in milliseconds. */
export function timeoutMsOf(tool: ExposedTool, defaultTimeoutSeconds: number): number {
  return (tool.plugin.timeoutSeconds ?? tool.definition.timeoutSeconds ?? defaultTimeoutSeconds) * 1000;
}

/** What the plugin runs with besides the call: how it asks the client, and a signal that ends it early. */
export interface PluginRun {
  readonly client: CallOptions['client'];
  /** Given the means to end this run early (its question was not answered here). */
  readonly onStart?: (run: Pick<CallSignal, 'stop'>) => void;
}

export async function callPlugin(call: ToolCall, deps: CallPluginDeps, run: PluginRun): Promise<ToolOutcome> {
  const { name, tool, options, context } = call;
  const loaded = tool.plugin.plugin;
  const timeoutMs = timeoutMsOf(tool, deps.defaultTimeoutSeconds);
  const callSignal = createCallSignal({
    client: options.signal,
    connection: options.stop,
    shutdown: deps.shutdown,
    timeoutMs,
    graceMs: loaded.stopGraceMs ?? 0,
    label: name,
    pluginId: tool.plugin.id,
  });
  run.onStart?.(callSignal);
  const clientLog = options.log ?? noop;
  const log: CallOptions['log'] = deps.hooks.wants('message')
    ? (level, data) => {
        deps.hooks.notify({ type: 'message', ...call.eventBase(), level, data });
        clientLog(level, data);
      }
    : clientLog;
  // Timed only for the debug log: most servers run without it.
  const started = deps.logger.isLevelEnabled('debug') ? performance.now() : undefined;
  try {
    const outcome = await callSignal.race(
      loaded.call(tool.definition.name, call.input, new PluginCallOptions(callSignal, timeoutMs, call.progressPhase(), log, run.client, context)),
    );
    if (started !== undefined) deps.logger.debug({ tool: name, callId: context.callId, ms: performance.now() - started, isError: outcome.isError === true }, 'call done');
    return outcome;
  } catch (error) {
    const failure = isToolportError(error)
      ? error
      : new ToolportError(ErrorCode.PluginCrashed, `${name} failed: the plugin could not answer; see the server log`, {
          cause: error,
          pluginId: tool.plugin.id,
        });
    const expected = failure.code === ErrorCode.CallCancelled || failure.code === ErrorCode.ShuttingDown;
    if (expected) deps.logger.debug({ tool: name, callId: context.callId, code: failure.code }, failure.shortMessage);
    // A failure the adapter already put into words (an API's refusal, a timeout) needs no stack
    // trace, only what caused it; anything else is a fault whose stack is worth having.
    else if (isToolportError(error)) {
      deps.logger.warn({ tool: name, callId: context.callId, code: failure.code, ...(error.cause !== undefined && { cause: describeThrown(error.cause) }) }, failure.shortMessage);
    } else deps.logger.warn({ tool: name, callId: context.callId, code: failure.code, err: error }, failure.shortMessage);
    throw failure;
  } finally {
    callSignal.dispose();
  }
}

/**
 * What the plugin is given for one call. `signal` is read through a getter, so the call
 * signal makes its AbortController only for a plugin that reads it; a getter on a class, since
 * an object literal with a getter costs each call far more (see core/call-signal.ts).
 */
class PluginCallOptions implements CallOptions {
  // A plugin closing stops its running calls through this; each still ends with the plugin's answer.
  readonly interrupt: CallOptions['interrupt'];
  readonly onStop: CallOptions['onStop'];
  readonly deadline: CallDeadline;
  constructor(
    private readonly callSignal: CallSignal,
    timeoutMs: number,
    readonly progress: CallOptions['progress'],
    readonly log: CallOptions['log'],
    readonly client: CallOptions['client'],
    readonly context: CallContext,
  ) {
    // Bound here: callers take these apart from the options (the lifecycle keeps `interrupt`).
    this.interrupt = (reason) => callSignal.interrupt(reason);
    this.onStop = (listener) => callSignal.onStop(listener);
    this.deadline = new PluginDeadline(timeoutMs, callSignal);
  }
  get signal(): AbortSignal {
    return this.callSignal.signal;
  }
}

/** The call's time limit as a plugin that queues calls sees it (CallOptions.deadline). */
class PluginDeadline implements CallDeadline {
  constructor(
    readonly ms: number,
    private readonly callSignal: CallSignal,
  ) {}
  hold(): void {
    this.callSignal.hold();
  }
  restart(): void {
    this.callSignal.restart();
  }
}
