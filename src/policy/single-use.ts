// Approvals that may be used once: a 2026-07-28 "approve once" answer travels with a signed
// requestState the client could send again. Its id is claimed by the first call it lets
// run; a replay finds it taken. In memory here; the interface is what a shared store keeps.

export interface SingleUseStore {
  /** True the first time `id` is claimed (within `ttlMs`), false ever after. */
  claim(id: string, ttlMs: number): Promise<boolean>;
}

export function createMemorySingleUse(): SingleUseStore {
  const claimed = new Map<string, number>();
  let nextSweep = 0;
  return {
    claim(id, ttlMs) {
      const now = Date.now();
      // Ids past their lifetime cannot come back (their state no longer verifies): forget them.
      if (now >= nextSweep) {
        for (const [key, expires] of claimed) if (expires <= now) claimed.delete(key);
        nextSweep = now + 60_000;
      }
      if (claimed.has(id)) return Promise.resolve(false);
      claimed.set(id, now + ttlMs);
      return Promise.resolve(true);
    },
  };
}
