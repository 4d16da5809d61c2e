// Waiting that can be stopped: race a promise against a signal, sleep, and join signals.
// Every wait in toolport takes a signal; these are the few shapes it takes.

/** Settles like `promise`, or rejects with the signal's reason if it fires first. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Whether `work` settles (either way) within `ms`; it is not stopped when it does not. */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves after `ms`; rejects with the signal's reason if it fires first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (!signal) return new Promise((resolve) => setTimeout(resolve, ms));
  let timer: NodeJS.Timeout | undefined;
  return raceSignal(
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
    signal,
  ).finally(() => clearTimeout(timer));
}

/**
 * Calls `call` with each item in turn. One call that throws does not keep the others from
 * running; its error is reported as an uncaught exception, as EventTarget does with a listener's.
 */
export function callEach<T>(items: Iterable<T>, call: (item: T) => void): void {
  for (const item of items) {
    try {
      call(item);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

const sharedListeners = new WeakMap<AbortSignal, Set<() => void>>();

/**
 * Calls `listener` when the long-lived `signal` fires (at once if it has); returns what removes
 * it again. Every such listener on one signal shares a single EventTarget listener, so adding
 * and removing one per call (the shutdown signal, a connection's) is a Set operation rather
 * than an EventTarget one (about 2.5 µs each on Node 20). A listener that throws does not keep
 * the others from running; its error is reported as an uncaught exception, as EventTarget does.
 */
export function onAbort(signal: AbortSignal, listener: () => void): () => void {
  if (signal.aborted) {
    listener();
    return () => false;
  }
  let listeners = sharedListeners.get(signal);
  if (!listeners) {
    const all = new Set<() => void>();
    listeners = all;
    sharedListeners.set(signal, all);
    signal.addEventListener(
      'abort',
      () => {
        const each = [...all];
        all.clear();
        callEach(each, (listener) => listener());
      },
      { once: true },
    );
  }
  const set = listeners;
  set.add(listener);
  return () => set.delete(listener);
}

/**
 * Makes `controller` abort (with the source's reason) when any of `sources` fires, and
 * returns the function that unlinks it again. Used instead of `AbortSignal.any` where a
 * source lives long (shutdown, a plugin's close): on Node 20 every `AbortSignal.any` over a
 * long-lived signal stays in that signal's list of dependants forever (about 150 bytes per
 * call, measured), listeners or not.
 */
export function linkSignals(controller: AbortController, sources: readonly (AbortSignal | undefined)[]): () => void {
  const links: [AbortSignal, () => void][] = [];
  for (const source of sources) {
    if (!source) continue;
    if (source.aborted) {
      controller.abort(source.reason);
      break;
    }
    const onAbort = (): void => controller.abort(source.reason);
    source.addEventListener('abort', onAbort, { once: true });
    links.push([source, onAbort]);
  }
  return () => {
    for (const [source, onAbort] of links) source.removeEventListener('abort', onAbort);
  };
}

export interface Deadline {
  /** Fires with the deadline's reason after `ms`, or with the reason of a linked signal. */
  readonly signal: AbortSignal;
  /** Stops the timer and unlinks the other signals; call it when the work is done. */
  dispose(): void;
}

/**
 * A time limit joined with other signals, on a timer the returned object holds (on Node 20
 * an `AbortSignal.any` over an `AbortSignal.timeout` that nothing else references is
 * garbage-collected before it fires).
 */
export function createDeadline(ms: number, reason: () => unknown, ...signals: readonly (AbortSignal | undefined)[]): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(reason()), ms);
  const unlink = linkSignals(controller, signals);
  return {
    signal: controller.signal,
    dispose() {
      clearTimeout(timer);
      unlink();
    },
  };
}
