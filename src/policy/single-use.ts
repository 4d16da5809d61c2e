// Approvals that may be used once: a 2026-07-28 "approve once" answer travels with a signed
// requestState the client could send again. Its id is claimed by the first call it lets
// run; a replay finds it taken, on this replica or, with a shared state, on any other.
import type { SharedState } from '../core/shared-state.js';

export interface SingleUseStore {
  /** True the first time `id` is claimed (within `ttlMs`), false ever after; rejects when the store cannot be reached. */
  claim(id: string, ttlMs: number): Promise<boolean>;
}

export function createSingleUse(state: SharedState): SingleUseStore {
  return { claim: (id, ttlMs) => state.claimOnce(`approval:${id}`, ttlMs) };
}
