// The state toolport replicas share: records with an expiry (the approval inbox), one-time
// claims (approve-once answers), secrets made once (the requestState and relationship keys),
// string maps (the wasm key-value store), rate-limit buckets and concurrency slots, and
// messages between replicas. In memory (one process, today's behaviour) or in Redis
// (core/redis-state.ts) when `state.redis` is configured. Every operation of a shared store
// rejects with a StateUnavailable error when the store cannot be reached: callers fail closed.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ErrorCode, ToolportError } from './errors.js';

/** One limit's part of a check: a token bucket (rate in tokens per ms) or a concurrency cap. */
export type LimitItem =
  | { readonly type: 'rate'; readonly key: string; readonly rate: number; readonly capacity: number }
  | { readonly type: 'cap'; readonly key: string; readonly max: number };

/** The first item that refuses (its index in the list), with how long until it would not. */
export type LimitVerdict = { readonly ok: true } | { readonly ok: false; readonly index: number; readonly waitMs: number };

/** Rate-limit buckets and concurrency slots kept where every replica sees them. */
export interface SharedLimits {
  /** Whether every item would let a call start now; takes nothing. One atomic step. */
  check(items: readonly LimitItem[]): Promise<LimitVerdict>;
  /**
   * Takes a token from every bucket and a slot under every cap, or nothing (one atomic
   * step). A slot is held under `holder` until released; a replica that dies loses its
   * slots once their lease runs out.
   */
  take(items: readonly LimitItem[], holder: string): Promise<LimitVerdict>;
  /** Gives the slots of `holder` back. */
  release(capKeys: readonly string[], holder: string): Promise<void>;
}

export interface StateHealth {
  readonly kind: 'memory' | 'redis';
  readonly ok: boolean;
  /** Why not, when not. */
  readonly error?: string;
}

export interface SharedState {
  readonly kind: 'memory' | 'redis';
  /** Whether other processes see this state (Redis), or only this one (memory). */
  readonly shared: boolean;
  /** This process's name among the replicas: random per start unless configured. */
  readonly replica: string;
  health(): StateHealth;
  /** True the first time `key` is claimed within `ttlMs`, false ever after. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /**
   * A secret every replica uses: from the config (`state.keys`), else made once in the shared
   * store and kept there. Undefined in memory without a configured one: the caller keeps its own.
   */
  sharedSecret(name: string): Promise<Buffer | undefined>;
  /** A record with an expiry; it disappears by itself at `ttlMs`. */
  putRecord(space: string, id: string, value: string, ttlMs: number): Promise<void>;
  /** Removes a record and returns it, or undefined when it is gone (one caller wins). */
  takeRecord(space: string, id: string): Promise<string | undefined>;
  /** The live records of a space. */
  listRecords(space: string): Promise<string[]>;
  /** One field of a string map; undefined when unset. */
  mapGet(map: string, field: string): Promise<string | undefined>;
  /** Sets (or, with undefined, deletes) one field of a string map. */
  mapSet(map: string, field: string, value: string | undefined): Promise<void>;
  /** Sends a message to the subscribers of `channel` in every replica (this one too). */
  publish(channel: string, message: string): Promise<void>;
  /** Listens on `channel`; returns the function that stops listening. */
  subscribe(channel: string, listener: (message: string) => void): () => void;
  /** Limits shared between replicas; undefined in memory (the limiter keeps its own buckets). */
  readonly limits: SharedLimits | undefined;
  close(): Promise<void>;
}

/** The error of a shared-state operation that could not reach the store. */
export function stateUnavailable(what: string, why: string, cause?: unknown): ToolportError {
  return new ToolportError(ErrorCode.StateUnavailable, `${what} failed: the shared state (Redis) is unavailable (${why}); nothing was done, retry shortly`, {
    cause,
  });
}

export interface MemoryStateOptions {
  replica?: string | undefined;
  /** Configured secrets (`state.keys`), by name. */
  keys?: Readonly<Record<string, string | undefined>>;
}

/** A replica name: what the config says, else random. Letters, digits, - and _ only (it is part of session ids). */
export function replicaName(configured: string | undefined): string {
  return configured ?? `r${randomBytes(4).toString('hex')}`;
}

/** The state of one process: what toolport keeps when no shared store is configured. */
export function createMemoryState(options: MemoryStateOptions = {}): SharedState {
  const claims = new Map<string, number>();
  const spaces = new Map<string, Map<string, { value: string; expires: number }>>();
  const maps = new Map<string, Map<string, string>>();
  const bus = new EventEmitter();
  bus.setMaxListeners(0);
  let nextSweep = 0;

  const sweepClaims = (now: number): void => {
    // Claims past their lifetime cannot come back (what they guard no longer verifies).
    if (now < nextSweep) return;
    for (const [key, expires] of claims) if (expires <= now) claims.delete(key);
    nextSweep = now + 60_000;
  };
  const liveSpace = (space: string): Map<string, { value: string; expires: number }> => {
    let records = spaces.get(space);
    if (!records) spaces.set(space, (records = new Map<string, { value: string; expires: number }>()));
    const now = Date.now();
    for (const [id, record] of records) if (record.expires <= now) records.delete(id);
    return records;
  };

  return {
    kind: 'memory',
    shared: false,
    replica: replicaName(options.replica),
    health: () => ({ kind: 'memory', ok: true }),
    claimOnce(key, ttlMs) {
      const now = Date.now();
      sweepClaims(now);
      if ((claims.get(key) ?? 0) > now) return Promise.resolve(false);
      claims.set(key, now + ttlMs);
      return Promise.resolve(true);
    },
    sharedSecret(name) {
      const configured = options.keys?.[name];
      return Promise.resolve(configured === undefined ? undefined : Buffer.from(configured, 'utf8'));
    },
    putRecord(space, id, value, ttlMs) {
      liveSpace(space).set(id, { value, expires: Date.now() + ttlMs });
      return Promise.resolve();
    },
    takeRecord(space, id) {
      const records = liveSpace(space);
      const record = records.get(id);
      records.delete(id);
      return Promise.resolve(record?.value);
    },
    listRecords(space) {
      return Promise.resolve([...liveSpace(space).values()].map((record) => record.value));
    },
    mapGet(map, field) {
      return Promise.resolve(maps.get(map)?.get(field));
    },
    mapSet(map, field, value) {
      let entries = maps.get(map);
      if (!entries) maps.set(map, (entries = new Map<string, string>()));
      if (value === undefined) entries.delete(field);
      else entries.set(field, value);
      return Promise.resolve();
    },
    publish(channel, message) {
      // Asynchronously, as a message through Redis would arrive.
      queueMicrotask(() => bus.emit(channel, message));
      return Promise.resolve();
    },
    subscribe(channel, listener) {
      bus.on(channel, listener);
      return () => void bus.off(channel, listener);
    },
    limits: undefined,
    close: () => Promise.resolve(),
  };
}
