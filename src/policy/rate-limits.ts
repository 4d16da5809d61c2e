// Rate limits and concurrency caps from the `limits` config: token buckets keyed by
// principal × tool (or shared per plugin), and caps on calls in flight. A refusal says
// when to retry; a bucket of one principal is never touched by another's calls. In one
// process the buckets are kept here; with a shared state every replica takes from the same
// buckets, in one atomic step per check (core/redis-state.ts).
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { RateLimitedError } from '../core/errors.js';
import { compileGlob, type GlobMatcher } from '../core/glob.js';
import type { LimitItem, SharedLimits } from '../core/shared-state.js';

const units = { perSecond: 1000, perMinute: 60_000, perHour: 3_600_000 } as const;
type Unit = keyof typeof units;
const unitNames: Record<Unit, string> = { perSecond: 'second', perMinute: 'minute', perHour: 'hour' };

export const limitSchema = z
  .strictObject({
    /** Glob over exposed tool names. */
    tool: z.string().min(1).optional(),
    /** Glob over plugin ids. */
    plugin: z.string().min(1).optional(),
    /** Glob over principals; the limit applies only to them. */
    principal: z.string().min(1).optional(),
    /** `principal`: one bucket per principal (the default for `tool` limits); `all`: one shared bucket (the default for `plugin` limits). */
    per: z.enum(['principal', 'all']).optional(),
    perSecond: z.number().positive().optional(),
    perMinute: z.number().positive().optional(),
    perHour: z.number().positive().optional(),
    /** How many calls may come at once before the rate applies; default: the rate's count. */
    burst: z.number().int().positive().optional(),
    /** At most this many calls in flight at once. */
    concurrency: z.number().int().positive().optional(),
  })
  .superRefine((limit, ctx) => {
    if (limit.tool === undefined && limit.plugin === undefined) {
      ctx.addIssue({ code: 'custom', message: 'name a "tool" or a "plugin" (globs) the limit applies to' });
    }
    const rates = (Object.keys(units) as Unit[]).filter((unit) => limit[unit] !== undefined);
    if (rates.length > 1) ctx.addIssue({ code: 'custom', message: `give one rate, not ${rates.join(' and ')}` });
    if (rates.length === 0 && limit.concurrency === undefined) {
      ctx.addIssue({ code: 'custom', message: 'give a rate (perSecond, perMinute or perHour) or a concurrency cap' });
    }
    if (limit.burst !== undefined && rates.length === 0) ctx.addIssue({ code: 'custom', path: ['burst'], message: 'needs a rate' });
  });

export type LimitConfig = z.output<typeof limitSchema>;

export interface LimitedCall {
  /** The exposed tool name. */
  tool: string;
  plugin: string;
  principal: string;
}

export interface RateLimiter {
  /** Refuses (throws RateLimitedError) when a call could not start now; takes nothing. */
  check(call: LimitedCall): void | Promise<void>;
  /** Takes a token from every matching bucket and a slot under every matching cap, or takes nothing and throws. */
  acquire(call: LimitedCall): (() => void) | Promise<() => void>;
}

/** The limiter of one process: it answers at once. */
export interface LocalRateLimiter extends RateLimiter {
  check(call: LimitedCall): void;
  acquire(call: LimitedCall): () => void;
}

interface CompiledLimit {
  index: number;
  /** Names the limit by what it says, not where it is, so replicas with reordered configs share buckets. */
  sharedId: string;
  tool: GlobMatcher | undefined;
  plugin: GlobMatcher | undefined;
  principal: GlobMatcher | undefined;
  perPrincipal: boolean;
  /** Tokens per millisecond. */
  rate: number | undefined;
  capacity: number;
  concurrency: number | undefined;
  describe: string;
}

interface Bucket {
  tokens: number;
  updated: number;
}

const maxBuckets = 10_000;

function compile(limit: LimitConfig, index: number): CompiledLimit {
  const unit = (Object.keys(units) as Unit[]).find((key) => limit[key] !== undefined);
  const count = unit ? (limit[unit] as number) : undefined;
  const perPrincipal = (limit.per ?? (limit.tool !== undefined ? 'principal' : 'all')) === 'principal';
  const target = [limit.tool && `tool ${limit.tool}`, limit.plugin && `plugin ${limit.plugin}`, limit.principal && `principal ${limit.principal}`]
    .filter(Boolean)
    .join(', ');
  return {
    index,
    sharedId: createHash('sha256').update(JSON.stringify(limit)).digest('base64url').slice(0, 16),
    tool: limit.tool !== undefined ? compileGlob(limit.tool) : undefined,
    plugin: limit.plugin !== undefined ? compileGlob(limit.plugin) : undefined,
    principal: limit.principal !== undefined ? compileGlob(limit.principal) : undefined,
    perPrincipal,
    rate: unit && count !== undefined ? count / units[unit] : undefined,
    capacity: limit.burst ?? Math.max(1, Math.floor(count ?? 1)),
    concurrency: limit.concurrency,
    describe:
      `limits[${index}] (${target}: ` +
      [unit && `${count} per ${unitNames[unit]}`, limit.concurrency !== undefined && `${limit.concurrency} at once`].filter(Boolean).join(', ') +
      `${perPrincipal ? ' for each principal' : ' for everyone together'})`,
  };
}

/** Limits whose tool and plugin globs match none of these tools (probably a typo), as messages. */
export function unmatchedLimits(limits: readonly LimitConfig[], tools: readonly { tool: string; plugin: string }[]): string[] {
  return limits.flatMap((limit, index) => {
    const { tool, plugin } = compile(limit, index);
    const matches = tools.some((entry) => (!tool || tool(entry.tool)) && (!plugin || plugin(entry.plugin)));
    const target = [limit.tool !== undefined && `tool: "${limit.tool}"`, limit.plugin !== undefined && `plugin: "${limit.plugin}"`].filter(Boolean).join(', ');
    return matches ? [] : [`limits[${index}] (${target}) matches no tool`];
  });
}

function formatWait(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  return seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} min`;
}

function capRefusal(call: LimitedCall, limit: CompiledLimit & { concurrency: number }): RateLimitedError {
  return new RateLimitedError(
    `${call.tool} was not run: ${limit.concurrency} call${limit.concurrency === 1 ? ' is' : 's are'} already running under ${limit.describe}; retry when one has finished (in a few seconds)`,
    1000,
    { pluginId: call.plugin },
  );
}

function rateRefusal(call: LimitedCall, limit: CompiledLimit, waitMs: number): RateLimitedError {
  return new RateLimitedError(`${call.tool} was not run: rate limit reached under ${limit.describe}; retry in ${formatWait(waitMs)}`, waitMs, {
    pluginId: call.plugin,
  });
}

const matchesCall = (limit: CompiledLimit, call: LimitedCall): boolean =>
  (!limit.tool || limit.tool(call.tool)) && (!limit.plugin || limit.plugin(call.plugin)) && (!limit.principal || limit.principal(call.principal));

/** What the bucket is of: the principal when per principal, and the tool (tool limits) or plugin. */
const subjectOf = (limit: CompiledLimit, call: LimitedCall): string[] => [limit.perPrincipal ? call.principal : '', limit.tool ? call.tool : call.plugin];

/** The limiter without limits: it looks at nothing and makes nothing per call. */
const nothingHeld = (): void => {};
const unlimited: LocalRateLimiter = {
  check() {},
  acquire: () => nothingHeld,
};

export function createRateLimiter(limits: readonly LimitConfig[], options: { now?: () => number } = {}): LocalRateLimiter {
  if (limits.length === 0) return unlimited;
  const now = options.now ?? (() => performance.now());
  const compiled = limits.map(compile);
  const buckets = new Map<string, Bucket>();
  const running = new Map<string, number>();

  const matching = (call: LimitedCall): CompiledLimit[] => compiled.filter((limit) => matchesCall(limit, call));

  /** The bucket key: the limit and its subject. */
  const keyOf = (limit: CompiledLimit, call: LimitedCall): string => [limit.index, ...subjectOf(limit, call)].join('\u0000');

  /** The bucket refilled up to now (not stored). */
  function level(limit: CompiledLimit, key: string, at: number): Bucket {
    const bucket = buckets.get(key);
    if (!bucket || limit.rate === undefined) return { tokens: limit.capacity, updated: at };
    return { tokens: Math.min(limit.capacity, bucket.tokens + (at - bucket.updated) * limit.rate), updated: at };
  }

  /** Full buckets hold nothing a fresh one would not; drop them when the map grows. */
  function sweep(at: number): void {
    if (buckets.size < maxBuckets) return;
    for (const key of buckets.keys()) {
      const limit = compiled[Number(key.split('\u0000')[0])];
      if (!limit || level(limit, key, at).tokens >= limit.capacity) buckets.delete(key);
    }
  }

  function refusal(call: LimitedCall, at: number): RateLimitedError | undefined {
    for (const limit of matching(call)) {
      const key = keyOf(limit, call);
      if (limit.concurrency !== undefined && (running.get(key) ?? 0) >= limit.concurrency) return capRefusal(call, { ...limit, concurrency: limit.concurrency });
      if (limit.rate !== undefined) {
        const { tokens } = level(limit, key, at);
        if (tokens < 1) return rateRefusal(call, limit, Math.ceil((1 - tokens) / limit.rate));
      }
    }
    return undefined;
  }

  return {
    check(call) {
      const refused = refusal(call, now());
      if (refused) throw refused;
    },
    acquire(call) {
      const at = now();
      const refused = refusal(call, at);
      if (refused) throw refused;
      const held: string[] = [];
      for (const limit of matching(call)) {
        const key = keyOf(limit, call);
        if (limit.rate !== undefined) {
          const bucket = level(limit, key, at);
          buckets.set(key, { tokens: bucket.tokens - 1, updated: at });
        }
        if (limit.concurrency !== undefined) {
          running.set(key, (running.get(key) ?? 0) + 1);
          held.push(key);
        }
      }
      sweep(at);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const key of held) {
          const count = (running.get(key) ?? 1) - 1;
          if (count <= 0) running.delete(key);
          else running.set(key, count);
        }
      };
    },
  };
}

/**
 * The limiter of replicas that share their state: the same limits, counted in the shared
 * store. When the store cannot be reached the call is refused (StateUnavailable), never let
 * through unlimited.
 */
export function createSharedRateLimiter(limits: readonly LimitConfig[], store: SharedLimits): RateLimiter {
  const compiled = limits.map(compile);
  /** The items of the limits matching a call, in order (a cap before its rate), with the limit each is of. */
  const itemsOf = (call: LimitedCall): { items: LimitItem[]; of: CompiledLimit[] } => {
    const items: LimitItem[] = [];
    const of: CompiledLimit[] = [];
    for (const limit of compiled) {
      if (!matchesCall(limit, call)) continue;
      const key = [limit.sharedId, ...subjectOf(limit, call)].join('\u0000');
      if (limit.concurrency !== undefined) {
        items.push({ type: 'cap', key: `${key}\u0000cap`, max: limit.concurrency });
        of.push(limit);
      }
      if (limit.rate !== undefined) {
        items.push({ type: 'rate', key: `${key}\u0000rate`, rate: limit.rate, capacity: limit.capacity });
        of.push(limit);
      }
    }
    return { items, of };
  };
  const refuse = (call: LimitedCall, items: LimitItem[], of: CompiledLimit[], index: number, waitMs: number): RateLimitedError => {
    const limit = of[index] as CompiledLimit;
    return items[index]?.type === 'cap' ? capRefusal(call, { ...limit, concurrency: limit.concurrency ?? 1 }) : rateRefusal(call, limit, waitMs);
  };
  return {
    async check(call) {
      const { items, of } = itemsOf(call);
      if (items.length === 0) return;
      const verdict = await store.check(items);
      if (!verdict.ok) throw refuse(call, items, of, verdict.index, verdict.waitMs);
    },
    async acquire(call) {
      const { items, of } = itemsOf(call);
      if (items.length === 0) return () => {};
      const holder = randomUUID();
      const verdict = await store.take(items, holder);
      if (!verdict.ok) throw refuse(call, items, of, verdict.index, verdict.waitMs);
      const caps = items.filter((item) => item.type === 'cap').map((item) => item.key);
      let released = false;
      return () => {
        if (released || caps.length === 0) return;
        released = true;
        // A slot that cannot be given back now is freed when its lease runs out.
        store.release(caps, holder).catch(() => {});
      };
    },
  };
}
