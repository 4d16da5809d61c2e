// One AbortSignal per call that fires on client cancellation, the call's time limit
// or shutdown, and says which of them it was. Listeners are removed when the call ends,
// so long-lived signals (shutdown, a connection's) do not collect one listener per call;
// on those, the calls share one listener (`onAbort`).
import { callEach, onAbort } from './abort.js';
import { ErrorCode, ToolportError } from './errors.js';
import type { OnStop } from './tool.js';

export interface CallSignal {
  /** Made when first read (a call whose plugin never looks at it costs no AbortController). */
  readonly signal: AbortSignal;
  /** Resolves never; rejects with a ToolportError when the signal fires (after `graceMs`). */
  readonly aborted: Promise<never>;
  /** Settles as `work` does, or rejects as `aborted` would, whichever comes first (one promise, no race). */
  race<T>(work: Promise<T>): Promise<T>;
  /** Stops the clock of the time limit (the call waits in a plugin's queue). */
  readonly hold: () => void;
  /** Starts the time limit again from now, whole (unless the signal already fired). */
  readonly restart: () => void;
  /** Fires the signal now with `error` and ends the call (`race`, `aborted`) with it. */
  readonly stop: (error: ToolportError) => void;
  /**
   * Fires the signal now with `error`, as cancellation would reach the plugin, but leaves the
   * call to end as the plugin answers it (or at its deadline): how a plugin closing stops its
   * calls, so each still reports how it ended.
   */
  readonly interrupt: (error: ToolportError) => void;
  /** Tells `listener` once when the signal fires (at once if it has), without making the signal. */
  readonly onStop: OnStop;
  dispose(): void;
}

const noop = (): void => {};

// Calls started in this turn of the event loop and not armed yet. Most in-process calls
// (module tools, host tools) end in the turn they started, before any I/O could cancel them
// or any timer fire; those never make a timer or an abort listener (the EventTarget listener
// on the client's signal alone cost ~4 µs a call). The rest are armed together when the turn
// ends, by one setImmediate for all of them.
let unarmed: (() => void)[] = [];
let armScheduled = false;
// Taken when the module loads: a test's fake timers installed later must not hold arming back.
const atEndOfTurn = setImmediate;
const armStarted = (): void => {
  armScheduled = false;
  const started = unarmed;
  unarmed = [];
  // A stop listener that throws must not leave the other calls unarmed.
  callEach(started);
};
const armAtEndOfTurn = (arm: () => void): void => {
  unarmed.push(arm);
  if (armScheduled) return;
  armScheduled = true;
  atEndOfTurn(armStarted);
};

export interface CallSignalOptions {
  client?: AbortSignal | undefined;
  /** The connection's stop signal; fires the call as the client's cancellation does. */
  connection?: AbortSignal | undefined;
  shutdown?: AbortSignal | undefined;
  timeoutMs: number;
  /** How long after the deadline passed `aborted` waits before it rejects (the work may still report). Default 0. */
  graceMs?: number;
  /** Names the call in messages: the exposed tool name. */
  label: string;
  /** Replaces the default `<label> timed out after N s` message. */
  timeoutMessage?: string;
  pluginId?: string;
}

export function createCallSignal(options: CallSignalOptions): CallSignal {
  // Made on demand: most calls end without anyone reading the signal (module tools), and the
  // pipeline waits through `race`, so a call makes neither an AbortController nor a promise
  // it does not need.
  let controller: AbortController | undefined;
  /** Why the signal fired (set by `interrupt` as well as when the call ends). */
  let reason: ToolportError | undefined;
  let fired = false;
  /** Set once the call is over for its waiters (at once, or after the grace period of a timeout). */
  let over: ToolportError | undefined;
  let waiters: ((error: ToolportError) => void)[] | undefined;
  const end = (error: ToolportError): void => {
    over = error;
    if (!waiters) return;
    for (const reject of waiters) reject(error);
    waiters = undefined;
  };
  const onOver = (reject: (error: ToolportError) => void): void => {
    if (over) reject(over);
    else (waiters ??= []).push(reject);
  };

  let graceTimer: NodeJS.Timeout | undefined;
  let stopListeners: ((reason: ToolportError) => void)[] | undefined;
  const interrupt = (error: ToolportError): void => {
    if (reason) return;
    reason = error;
    controller?.abort(error);
    const listeners = stopListeners;
    stopListeners = undefined;
    // One that throws must not keep the others from hearing it, nor the call from ending.
    if (listeners) callEach(listeners.map((listener) => () => listener(error)));
  };
  const fire = (error: ToolportError): void => {
    if (fired) return;
    fired = true;
    interrupt(error);
    // Past its deadline, the work may still report how it ended (a process stopped with SIGTERM).
    if (options.graceMs && error.code === ErrorCode.CallTimeout) graceTimer = setTimeout(() => end(error), options.graceMs);
    else end(error);
  };
  const seconds = Math.round(options.timeoutMs / 100) / 10;
  const onTimeout = (): void =>
    fire(
      new ToolportError(ErrorCode.CallTimeout, options.timeoutMessage ?? `${options.label} timed out after ${seconds} s`, {
        pluginId: options.pluginId,
      }),
    );
  const onClient = (): void =>
    fire(new ToolportError(ErrorCode.CallCancelled, `${options.label} was cancelled by the client`, { pluginId: options.pluginId }));
  const onShutdown = (): void =>
    fire(new ToolportError(ErrorCode.ShuttingDown, `${options.label} was stopped: the server is shutting down`, { pluginId: options.pluginId }));

  const { client, connection, shutdown } = options;
  let timer: NodeJS.Timeout | undefined;
  let offConnection: (() => void) | undefined;
  let offShutdown: (() => void) | undefined;
  // Armed at the end of the turn (armAtEndOfTurn): what fired meanwhile is seen then, and
  // the timer gets what is left of the limit, counted from the call's start (or its last
  // restart). Held (waiting in a plugin's queue) means no timer yet.
  let armed = false;
  let held = false;
  let disposed = false;
  let startedAt = performance.now();
  const arm = (): void => {
    if (armed || disposed || fired) return;
    armed = true;
    // A shutdown usually ends the connections too: when both fired, it is the reason.
    if (shutdown?.aborted) return onShutdown();
    if (client?.aborted || connection?.aborted) return onClient();
    client?.addEventListener('abort', onClient, { once: true });
    if (connection) offConnection = onAbort(connection, onClient);
    if (shutdown) offShutdown = onAbort(shutdown, onShutdown);
    if (!held) (timer = setTimeout(onTimeout, Math.max(0, options.timeoutMs - (performance.now() - startedAt)))).unref();
  };
  if (shutdown?.aborted) onShutdown();
  else if (client?.aborted || connection?.aborted) onClient();
  else armAtEndOfTurn(arm);

  let aborted: Promise<never> | undefined;
  const signalOf = (): AbortSignal => {
    if (!controller) {
      controller = new AbortController();
      if (reason) controller.abort(reason);
    }
    return controller.signal;
  };
  const abortedOf = (): Promise<never> => {
    if (!aborted) {
      aborted = new Promise<never>((_, reject) => onOver(reject));
      // Nobody may be listening when the call ends normally; never report that as unhandled.
      aborted.catch(() => {});
    }
    return aborted;
  };
  return new CallSignalHandle(signalOf, abortedOf, {
    race<T>(work: Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        work.then(resolve, reject);
        onOver(reject);
      });
    },
    stop: fire,
    interrupt,
    onStop(listener) {
      if (reason) {
        listener(reason);
        return noop;
      }
      (stopListeners ??= []).push(listener);
      return () => {
        const index = stopListeners?.indexOf(listener) ?? -1;
        if (index !== -1) stopListeners?.splice(index, 1);
      };
    },
    hold: () => {
      held = true;
      clearTimeout(timer);
      timer = undefined;
    },
    restart: () => {
      if (fired) return;
      held = false;
      if (!armed) {
        // Not armed yet: the whole limit from now, when it is.
        startedAt = performance.now();
        return;
      }
      // A new timer: the armed one may have been set for what was left of the limit.
      clearTimeout(timer);
      (timer = setTimeout(onTimeout, options.timeoutMs)).unref();
    },
    dispose() {
      disposed = true;
      clearTimeout(graceTimer);
      if (!armed) return;
      clearTimeout(timer);
      client?.removeEventListener('abort', onClient);
      offConnection?.();
      offShutdown?.();
    },
  });
}

/**
 * The handle: `signal` and `aborted` are made when first read, through getters on a class.
 * Not an object literal with getters: V8 makes such a literal in dictionary mode (a hash table
 * and an accessor pair for every object). Measured on the asker (the pipeline cut short right
 * after making one), such a literal kept each call's garbage alive through the young
 * generation's collections until the next full one; this handle, the plugin's call options
 * and the round trip are classes for the same reason. With those and the module ctx's two
 * closures gone, an echo call through the pipeline with 16 in flight went from 24.8 µs (16.1 of
 * them garbage collection) to 3–7 µs (0.2–2.7), in process (bench/README.md).
 */
class CallSignalHandle implements CallSignal {
  readonly race: CallSignal['race'];
  readonly hold: CallSignal['hold'];
  readonly restart: CallSignal['restart'];
  readonly stop: CallSignal['stop'];
  readonly interrupt: CallSignal['interrupt'];
  readonly onStop: CallSignal['onStop'];
  readonly dispose: CallSignal['dispose'];
  constructor(
    private readonly signalOf: () => AbortSignal,
    private readonly abortedOf: () => Promise<never>,
    methods: Omit<CallSignal, 'signal' | 'aborted'>,
  ) {
    this.race = methods.race;
    this.hold = methods.hold;
    this.restart = methods.restart;
    this.stop = methods.stop;
    this.interrupt = methods.interrupt;
    this.onStop = methods.onStop;
    this.dispose = methods.dispose;
  }
  get signal(): AbortSignal {
    return this.signalOf();
  }
  get aborted(): Promise<never> {
    return this.abortedOf();
  }
}
