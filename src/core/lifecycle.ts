// The lifecycle every adapter shares: calls are refused once the plugin is closing, each call
// gets one signal that fires on the caller's signal or on close, and close() stops the calls
// still running, waits for them, then releases the plugin's resources, once.
import { linkSignals, settlesWithin } from './abort.js';
import { ErrorCode, ToolportError } from './errors.js';
import type { OnStop } from './tool.js';

export interface PluginLifecycle {
  /** True from the moment close() is called. */
  readonly closed: boolean;
  /** Fires when close() is called, with a ShuttingDown error as its reason. */
  readonly closeSignal: AbortSignal;
  /**
   * Runs one call of `label` (a tool name, for messages) with a signal that fires on the
   * caller's `signal` or on close (`work` reads `signal` of what it is given, when it needs
   * it). Rejects at once when the plugin is closed.
   */
  run<T>(label: string, call: LifecycleCall, work: (call: LifecycleCall) => Promise<T>): Promise<T>;
  /**
   * Closes once (later calls return the same promise): aborts the running calls, waits for
   * them to settle (at most `settleMs`: a call that ignores its signal is left behind), then
   * runs `release`, whatever happened before.
   */
  close(release?: () => Promise<void> | void): Promise<void>;
}

/** The caller's side of one call: its signal, and (from the pipeline) the handle that fires it. */
export interface LifecycleCall {
  readonly signal: AbortSignal;
  /** When given, the call runs on `signal` itself and close() fires that signal through this handle. */
  readonly interrupt?: ((reason: ToolportError) => void) | undefined;
  /** Comes with `interrupt`: hears the signal fire without making it (see CallOptions.onStop). */
  readonly onStop?: OnStop | undefined;
}

export interface PluginLifecycleOptions {
  /** How long close() waits for aborted calls to settle. Default 10 s. */
  settleMs?: number;
}

interface RunningCall {
  readonly interrupt: (reason: ToolportError) => void;
  settled: Promise<unknown>;
}

export function createPluginLifecycle(pluginId: string, options: PluginLifecycleOptions = {}): PluginLifecycle {
  const settleMs = options.settleMs ?? 10_000;
  const closer = new AbortController();
  const running = new Set<RunningCall>();
  let closing: Promise<void> | undefined;
  const shutdownError = (label: string): ToolportError =>
    new ToolportError(ErrorCode.ShuttingDown, `${label} was not run: the server is shutting down`, { pluginId });

  return {
    get closed() {
      return closer.signal.aborted;
    },
    closeSignal: closer.signal,
    run<T>(label: string, call: LifecycleCall, work: (call: LifecycleCall) => Promise<T>): Promise<T> {
      if (closer.signal.aborted) return Promise.reject(shutdownError(label));
      // The pipeline hands over the means to fire the call's own signal: no second signal per
      // call (and `signal` is read only if the work needs it). Other callers get one controller
      // per call, linked to their signal only. Either way close() stops the running calls
      // itself, so no per-call listener piles up on the long-lived close signal.
      let { interrupt } = call;
      let unlink: (() => void) | undefined;
      if (!interrupt) {
        const controller = new AbortController();
        unlink = linkSignals(controller, [call.signal]);
        call = { signal: controller.signal };
        interrupt = (reason) => controller.abort(reason);
      }
      let promise: Promise<T>;
      try {
        promise = work(call);
      } catch (error) {
        unlink?.();
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      const entry: RunningCall = { interrupt, settled: promise };
      const settle = (): void => {
        unlink?.();
        running.delete(entry);
      };
      entry.settled = promise.then(settle, settle);
      running.add(entry);
      return promise;
    },
    close(release) {
      closing ??= (async () => {
        const reason = new ToolportError(ErrorCode.ShuttingDown, `${pluginId}: the server is shutting down`, { pluginId });
        closer.abort(reason);
        const calls = [...running];
        for (const call of calls) call.interrupt(reason);
        try {
          // `settled` never rejects: it is each call's end, either way.
          if (calls.length > 0) await settlesWithin(Promise.all(calls.map((call) => call.settled)), settleMs);
        } finally {
          await release?.();
        }
      })();
      return closing;
    },
  };
}
