// Token buckets and concurrency caps on a fake clock: bursts, refill, retry times, buckets
// per principal × tool, shared plugin buckets, caps released when calls end, and refusals
// that take nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ErrorCode, RateLimitedError } from '../../src/core/errors.js';
import { createRateLimiter, limitSchema, unmatchedLimits, type LimitConfig } from '../../src/policy/rate-limits.js';
import { createToolport } from '../../src/toolport.js';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000_000;
  return { now: () => time, advance: (ms) => void (time += ms) };
}

const limits = (...entries: Record<string, unknown>[]): LimitConfig[] => entries.map((entry) => limitSchema.parse(entry));
const alice = { tool: 'weather__forecast', plugin: 'weather', principal: 'alice' };
const bob = { ...alice, principal: 'bob' };

function refusedBy(fn: () => unknown): RateLimitedError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RateLimitedError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('token buckets', () => {
  it('a burst beyond the bucket is refused with the time to wait; another principal is unaffected', () => {
    const time = clock();
    const limiter = createRateLimiter(limits({ tool: 'weather__*', perMinute: 3 }), time);
    for (let call = 0; call < 3; call += 1) limiter.acquire(alice)();
    const refused = refusedBy(() => limiter.acquire(alice));
    expect(refused.code).toBe(ErrorCode.RateLimited);
    expect(refused.retryAfterMs).toBe(20_000);
    expect(refused.shortMessage).toBe(
      'weather__forecast was not run: rate limit reached under limits[0] (tool weather__*: 3 per minute for each principal); retry in 20 s',
    );
    // Bob has his own bucket.
    for (let call = 0; call < 3; call += 1) limiter.acquire(bob)();
    // The bucket refills at 3 per minute: one token after 20 s.
    time.advance(19_000);
    expect(refusedBy(() => limiter.acquire(alice)).retryAfterMs).toBe(1000);
    time.advance(1000);
    limiter.acquire(alice)();
    expect(() => limiter.check(alice)).toThrow(RateLimitedError);
  });

  it('buckets are per tool: another tool of the same glob has its own', () => {
    const limiter = createRateLimiter(limits({ tool: 'weather__*', perSecond: 1 }), clock());
    limiter.acquire(alice)();
    expect(() => limiter.acquire(alice)).toThrow(RateLimitedError);
    limiter.acquire({ ...alice, tool: 'weather__alerts' })();
  });

  it('burst sets the bucket size; the rate sets the refill', () => {
    const time = clock();
    const limiter = createRateLimiter(limits({ tool: '*', perHour: 60, burst: 2 }), time);
    limiter.acquire(alice)();
    limiter.acquire(alice)();
    expect(refusedBy(() => limiter.acquire(alice)).shortMessage).toMatch(/retry in 60 s$/);
    time.advance(60_000);
    limiter.acquire(alice)();
  });

  it('a plugin limit is one bucket for everyone by default, or per principal when asked', () => {
    const shared = createRateLimiter(limits({ plugin: 'weather', perMinute: 2 }), clock());
    shared.acquire(alice)();
    shared.acquire({ ...bob, tool: 'weather__alerts' })();
    expect(refusedBy(() => shared.acquire(bob)).shortMessage).toContain('for everyone together');
    const separate = createRateLimiter(limits({ plugin: 'weather', perMinute: 1, per: 'principal' }), clock());
    separate.acquire(alice)();
    separate.acquire(bob)();
    expect(() => separate.acquire(alice)).toThrow(RateLimitedError);
  });

  it('a principal glob limits only those principals', () => {
    const limiter = createRateLimiter(limits({ tool: '*', principal: 'ci-*', perMinute: 1 }), clock());
    const bot = { ...alice, principal: 'ci-bot' };
    limiter.acquire(bot)();
    expect(() => limiter.acquire(bot)).toThrow(RateLimitedError);
    for (let call = 0; call < 5; call += 1) limiter.acquire(alice)();
  });

  it('a refusal by one limit takes nothing from the others', () => {
    const time = clock();
    const limiter = createRateLimiter(limits({ plugin: 'weather', perMinute: 10 }, { tool: 'weather__forecast', perMinute: 1 }), time);
    limiter.acquire(alice)();
    for (let call = 0; call < 5; call += 1) expect(() => limiter.acquire(alice)).toThrow(/limits\[1\]/);
    // limits[0] still has 9 tokens: the refused calls did not spend them.
    for (let call = 0; call < 9; call += 1) limiter.acquire({ ...alice, tool: 'weather__alerts' })();
    expect(() => limiter.acquire({ ...alice, tool: 'weather__alerts' })).toThrow(/limits\[0\]/);
  });

  it('check() refuses like acquire() but takes nothing', () => {
    const limiter = createRateLimiter(limits({ tool: '*', perMinute: 1 }), clock());
    for (let call = 0; call < 5; call += 1) limiter.check(alice);
    limiter.acquire(alice)();
    expect(() => limiter.check(alice)).toThrow(RateLimitedError);
  });
});

describe('concurrency caps', () => {
  it('refuse beyond the cap until a call finishes; releasing twice counts once', () => {
    const limiter = createRateLimiter(limits({ plugin: 'weather', concurrency: 2 }), clock());
    const first = limiter.acquire(alice);
    const second = limiter.acquire(bob);
    const refused = refusedBy(() => limiter.acquire(alice));
    expect(refused.shortMessage).toBe(
      'weather__forecast was not run: 2 calls are already running under limits[0] (plugin weather: 2 at once for everyone together); retry when one has finished (in a few seconds)',
    );
    first();
    first();
    const third = limiter.acquire(alice);
    expect(() => limiter.acquire(alice)).toThrow(RateLimitedError);
    second();
    third();
    limiter.acquire(alice);
    limiter.acquire(alice);
  });
});

describe('limits in the call pipeline', () => {
  it('a call the limits refuse is refused before anyone is asked to approve it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toolport-limits-ask-'));
    const kitchen = fileURLToPath(new URL('../fixtures/hooks/kitchen.mjs', import.meta.url));
    const toolport = await createToolport(
      parseConfig(
        {
          policy: { rules: [{ tool: 'kitchen__order', action: 'ask' }] },
          limits: [{ tool: 'kitchen__order', perHour: 1 }],
          plugins: [{ path: kitchen, settings: { ledger: join(dir, 'ledger.txt') } }],
        },
        { env: {} },
      ),
    );
    try {
      let prompts = 0;
      const approval = {
        elicit: () => {
          prompts += 1;
          return Promise.resolve({ action: 'accept' as const, content: { decision: 'once' } });
        },
      };
      await toolport.call('kitchen__order', { item: 'tea' }, { approval });
      expect(prompts).toBe(1);
      await expect(toolport.call('kitchen__order', { item: 'tea' }, { approval })).rejects.toMatchObject({ code: ErrorCode.RateLimited });
      expect(prompts).toBe(1);
      // Another principal has its own bucket and is asked as usual.
      await toolport.call('kitchen__order', { item: 'tea' }, { approval, context: { principal: 'bob' } });
      expect(prompts).toBe(2);
    } finally {
      await toolport.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('limits config', () => {
  it('names limits that match no tool (toolport check warns)', () => {
    const tools = [{ tool: 'weather__forecast', plugin: 'weather' }];
    expect(unmatchedLimits(limits({ tool: 'weather__*', perMinute: 1 }, { tool: 'wether__*', perMinute: 1 }, { plugin: 'weather', tool: 'x', concurrency: 1 }), tools)).toEqual([
      'limits[1] (tool: "wether__*") matches no tool',
      'limits[2] (tool: "x", plugin: "weather") matches no tool',
    ]);
  });

  it.each<[Record<string, unknown>, RegExp]>([
    [{ perMinute: 5 }, /name a "tool" or a "plugin"/],
    [{ tool: 'x' }, /give a rate .* or a concurrency cap/],
    [{ tool: 'x', perMinute: 1, perHour: 2 }, /give one rate, not perMinute and perHour/],
    [{ tool: 'x', concurrency: 1, burst: 3 }, /needs a rate/],
    [{ tool: 'x', perMinute: -1 }, /too small/i],
    [{ tool: 'x', perMinute: 1, per: 'team' }, /principal|all/],
    [{ tool: 'x', perMinute: 1, perDay: 1 }, /perDay/],
  ])('refuses %j', (entry, message) => {
    const parsed = limitSchema.safeParse(entry);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message).join('\n') + JSON.stringify(parsed.error?.issues)).toMatch(message);
  });
});
