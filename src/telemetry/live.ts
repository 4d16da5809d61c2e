// The console's live view of calls: each call's start and end as they happen, the last
// few hundred kept for a page that opens later, and each ended call's audit record.
import type { AuditRecord } from '../policy/audit.js';

export interface LiveCallEvent {
  readonly type: 'start' | 'end';
  /** Unique among the calls of this server (call ids are JSON-RPC ids, which clients reuse). */
  readonly key: string;
  readonly callId: string;
  readonly time: string;
  readonly tool: string;
  readonly plugin: string | undefined;
  readonly principal: string;
  readonly session: string | undefined;
  readonly decision?: string | undefined;
  readonly outcome?: string | undefined;
  readonly durationMs?: number | undefined;
}

export interface LiveCalls {
  /** The most recent events, oldest first. */
  recent(): readonly LiveCallEvent[];
  /** The audit record of a recently ended call, by its `key`. */
  record(key: string): AuditRecord | undefined;
  subscribe(listener: (event: LiveCallEvent) => void): () => void;
  /** Whether anyone is watching (so callers can skip building events). */
  readonly watched: boolean;
  push(event: LiveCallEvent, record?: AuditRecord): void;
}

export function createLiveCalls(keep = 500): LiveCalls {
  // A ring: `events[next]` is the oldest once it is full.
  const events: LiveCallEvent[] = [];
  let next = 0;
  const records = new Map<string, AuditRecord>();
  const listeners = new Set<(event: LiveCallEvent) => void>();
  return {
    recent: () => (events.length < keep ? events : [...events.slice(next), ...events.slice(0, next)]),
    record: (key) => records.get(key),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get watched() {
      return listeners.size > 0;
    },
    push(event, record) {
      if (events.length < keep) events.push(event);
      else {
        events[next] = event;
        next = (next + 1) % keep;
      }
      if (record) {
        records.set(event.key, record);
        // Maps keep insertion order: the first key is the oldest.
        if (records.size > keep) records.delete(records.keys().next().value as string);
      }
      for (const listener of listeners) listener(event);
    },
  };
}
