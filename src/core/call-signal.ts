// One AbortSignal per call that fires on client cancellation, the end of the client's
// connection, the call's time limit, shutdown, or when the pipeline stops or interrupts the
// call, and says which of them it was. Listeners are removed when the call ends,
// so long-lived signals (shutdown, a connection's) do not collect one listener per call;
// on those, the calls share one listener (`onAbort`).
import { callEach, onAbort } from './abort.js';
import { ErrorCode, ToolportError } from './errors.js';

export interface CallSignal {
  /** Made when first read (a call whose plugin never looks at it costs no AbortController). */
  readonly signal: AbortSignal;
  /** Resolves never; rejects with a ToolportError when the signal fires (after `graceMs`). */
  readonly aborted: Promise<never>;
  /** Settles as `work` does, or rejects as `aborted` would, whichever comes first (one promise, no race). */
  race<T>(work: Promise<T>): Promise<T>;
  /** Stops the clock of the time limit (the call waits in a plugin's queue). */
  hold(): void;
  /** Starts the time limit again from now, whole (unless the signal already fired). */
  restart(): void;
  /** Fires the signal now with `error` and ends the call (`race`, `aborted`) with it. */
  stop(error: ToolportError): void;
  /**
   * Fires the signal now with `error`, as cancellation would reach the plugin, but leaves the
   * call to end as the plugin answers it (or at its deadline): how a plugin closing stops its
   * calls, so each still reports how it ended.
   */
  interrupt(error: ToolportError): void;
  /**
   * Tells `listener` once when the signal fires (at once if it has), without making the signal;
   * returns what takes it back.
   */
  onStop(listener: (reason: ToolportError) => void): () => void;
  dispose(): void;
}

const noop = (): void => {};

// Calls started in this turn of the event loop and not armed yet. Most in-process calls
// (module tools, host tools) end in the turn they started, before any I/O could cancel them
// or any timer fire; those never make a timer or an abort listener (the EventTarget listener
// on the client's signal alone cost ~4 µs a call). The rest are armed together when the turn
// ends, by one setImmediate for all of them.
let unarmed: CallSignalHandle[] = [];
let armScheduled = false;
// Taken when the module loads: a test's fake timers installed later must not hold arming back.
const atEndOfTurn = setImmediate;
const armOne = (call: CallSignalHandle): void => call.arm();
const armStarted = (): void => {
  armScheduled = false;
  const started = unarmed;
  unarmed = [];
  // A stop listener that throws must not leave the other calls unarmed.
  callEach(started, armOne);
};
const armAtEndOfTurn = (call: CallSignalHandle): void => {
  unarmed.push(call);
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
  return new CallSignalHandle(options);
}

/**
 * One call's signal. A class, with its state in fields and its methods on the prototype: a
 * call makes this one object (an object of closures cost each call ~15 functions and their
 * context, and an object literal with getters is made in dictionary mode, whose garbage
 * outlived its call through the young generation's collections: see bench/README.md). What
 * is handed out detached (to the plugin's call options, the timer, the abort listeners) is
 * bound when it is handed out, and the abort listeners only when the call is armed.
 */
class CallSignalHandle implements CallSignal {
  // Made on demand: most calls end without anyone reading the signal (module tools), and the
  // pipeline waits through `race`, so a call makes neither an AbortController nor a promise
  // it does not need.
  #controller: AbortController | undefined;
  /** Why the signal fired (set by `interrupt` as well as when the call ends). */
  #reason: ToolportError | undefined;
  #fired = false;
  /** Set once the call is over for its waiters (at once, or after the grace period of a timeout). */
  #over: ToolportError | undefined;
  #waiters: ((error: ToolportError) => void)[] | undefined;
  #aborted: Promise<never> | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #stopListeners: ((reason: ToolportError) => void)[] | undefined;
  // Armed at the end of the turn (armAtEndOfTurn): what fired meanwhile is seen then, and the
  // timer gets what is left of the limit, counted from the call's start (or its last restart).
  // Held (waiting in a plugin's queue) means no timer yet.
  #armed = false;
  #held = false;
  #disposed = false;
  #startedAt = performance.now();
  #timer: NodeJS.Timeout | undefined;
  /** The listener on the client's and the connection's signals, once armed. */
  #onClient: (() => void) | undefined;
  #offConnection: (() => void) | undefined;
  #offShutdown: (() => void) | undefined;
  readonly #options: CallSignalOptions;

  constructor(options: CallSignalOptions) {
    this.#options = options;
    const { client, connection, shutdown } = options;
    if (shutdown?.aborted) this.#onShutdown();
    else if (client?.aborted || connection?.aborted) this.#onClientCancelled();
    else armAtEndOfTurn(this);
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#reason) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  get aborted(): Promise<never> {
    if (!this.#aborted) {
      this.#aborted = new Promise<never>((_, reject) => this.#onOver(reject));
      // Nobody may be listening when the call ends normally; never report that as unhandled.
      this.#aborted.catch(() => {});
    }
    return this.#aborted;
  }

  race<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      work.then(resolve, reject);
      this.#onOver(reject);
    });
  }

  stop(error: ToolportError): void {
    if (this.#fired) return;
    this.#fired = true;
    this.interrupt(error);
    // Past its deadline, the work may still report how it ended (a process stopped with SIGTERM).
    if (this.#options.graceMs && error.code === ErrorCode.CallTimeout) this.#graceTimer = setTimeout(() => this.#end(error), this.#options.graceMs);
    else this.#end(error);
  }

  interrupt(error: ToolportError): void {
    if (this.#reason) return;
    this.#reason = error;
    this.#controller?.abort(error);
    const listeners = this.#stopListeners;
    this.#stopListeners = undefined;
    // One that throws must not keep the others from hearing it, nor the call from ending.
    if (listeners) callEach(listeners, (listener) => listener(error));
  }

  onStop(listener: (reason: ToolportError) => void): () => void {
    if (this.#reason) {
      listener(this.#reason);
      return noop;
    }
    (this.#stopListeners ??= []).push(listener);
    return () => {
      const index = this.#stopListeners?.indexOf(listener) ?? -1;
      if (index !== -1) this.#stopListeners?.splice(index, 1);
    };
  }

  hold(): void {
    this.#held = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  restart(): void {
    if (this.#fired) return;
    this.#held = false;
    if (!this.#armed) {
      // Not armed yet: the whole limit from now, when it is.
      this.#startedAt = performance.now();
      return;
    }
    // A new timer: the armed one may have been set for what was left of the limit.
    clearTimeout(this.#timer);
    this.#startTimer(this.#options.timeoutMs);
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#graceTimer);
    if (!this.#armed) return;
    clearTimeout(this.#timer);
    if (this.#onClient) this.#options.client?.removeEventListener('abort', this.#onClient);
    this.#offConnection?.();
    this.#offShutdown?.();
  }

  /** Called at the end of the turn the call started in (armAtEndOfTurn). */
  arm(): void {
    if (this.#armed || this.#disposed || this.#fired) return;
    this.#armed = true;
    const { client, connection, shutdown } = this.#options;
    // A shutdown usually ends the connections too: when both fired, it is the reason.
    if (shutdown?.aborted) return this.#onShutdown();
    if (client?.aborted || connection?.aborted) return this.#onClientCancelled();
    const onClient = (this.#onClient = () => this.#onClientCancelled());
    client?.addEventListener('abort', onClient, { once: true });
    if (connection) this.#offConnection = onAbort(connection, onClient);
    if (shutdown) this.#offShutdown = onAbort(shutdown, () => this.#onShutdown());
    if (!this.#held) this.#startTimer(Math.max(0, this.#options.timeoutMs - (performance.now() - this.#startedAt)));
  }

  #startTimer(ms: number): void {
    (this.#timer = setTimeout(() => this.#onTimeout(), ms)).unref();
  }

  #end(error: ToolportError): void {
    this.#over = error;
    const waiters = this.#waiters;
    if (!waiters) return;
    this.#waiters = undefined;
    for (const reject of waiters) reject(error);
  }

  #onOver(reject: (error: ToolportError) => void): void {
    if (this.#over) reject(this.#over);
    else (this.#waiters ??= []).push(reject);
  }

  #onTimeout(): void {
    const { timeoutMs, timeoutMessage, label, pluginId } = this.#options;
    const seconds = Math.round(timeoutMs / 100) / 10;
    this.stop(new ToolportError(ErrorCode.CallTimeout, timeoutMessage ?? `${label} timed out after ${seconds} s`, { pluginId }));
  }

  #onClientCancelled(): void {
    const { label, pluginId } = this.#options;
    this.stop(new ToolportError(ErrorCode.CallCancelled, `${label} was cancelled by the client`, { pluginId }));
  }

  #onShutdown(): void {
    const { label, pluginId } = this.#options;
    this.stop(new ToolportError(ErrorCode.ShuttingDown, `${label} was stopped: the server is shutting down`, { pluginId }));
  }
}
