// A per-tool concurrency cap: at most `limit` processes of one tool run at once; further
// calls wait in order, and a waiting call whose signal fires leaves the queue at once.

export interface Limiter {
  /** Waits for a slot; rejects with the signal's reason if it fires first. Returns the release. */
  acquire(signal: AbortSignal): Promise<() => void>;
}

export function createLimiter(limit: number): Limiter {
  let running = 0;
  const queue: Array<{ grant: () => void }> = [];

  const release = (): void => {
    running -= 1;
    const next = queue.shift();
    if (next) next.grant();
  };

  const once = (): (() => void) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
    };
  };

  return {
    acquire(signal) {
      if (signal.aborted) return Promise.reject(signal.reason as Error);
      if (running < limit) {
        running += 1;
        return Promise.resolve(once());
      }
      return new Promise((resolve, reject) => {
        const entry = {
          grant: () => {
            signal.removeEventListener('abort', onAbort);
            running += 1;
            resolve(once());
          },
        };
        function onAbort(): void {
          const index = queue.indexOf(entry);
          if (index !== -1) queue.splice(index, 1);
          reject(signal.reason as Error);
        }
        signal.addEventListener('abort', onAbort, { once: true });
        queue.push(entry);
      });
    },
  };
}
