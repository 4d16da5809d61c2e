// The Redis shared state against a real redis-server, as two replicas would use it: claims,
// keys made once, records one decider takes, limits counted atomically, messages; and what
// happens when Redis is not there at start, goes away, and comes back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisState } from '../../src/core/redis-state.js';
import { createSilentLogger } from '../../src/core/logger.js';
import type { LimitItem, SharedLimits, SharedState } from '../../src/core/shared-state.js';
import { isToolportError } from '../../src/core/errors.js';
import { freePort } from '../helpers/mqtt-broker.js';
import { waitFor } from '../helpers/processes.js';
import { redisMissing, startRedis, type RedisProcess } from '../helpers/redis-server.js';

const logger = createSilentLogger();

function limitsOf(state: SharedState): SharedLimits {
  if (!state.limits) throw new Error('a Redis state has shared limits');
  return state.limits;
}

describe.skipIf(redisMissing !== undefined)(`the Redis shared state${redisMissing ? ` (skipped: ${redisMissing})` : ''}`, () => {
  let redis: RedisProcess;
  let a: SharedState;
  let b: SharedState;
  let run = 0;
  const open = (prefix: string, replica: string): Promise<SharedState> => createRedisState({ url: redis.url, prefix, replica, logger });

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await redis?.stop();
  });

  const pair = async (): Promise<void> => {
    await Promise.allSettled([a?.close(), b?.close()]);
    run += 1;
    a = await open(`t${run}:`, 'a');
    b = await open(`t${run}:`, 'b');
  };

  it('a claim succeeds once across replicas', async () => {
    await pair();
    const claims = await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 ? a : b).claimOnce('nonce-1', 60_000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('a shared key is made once: every replica reads the same one', async () => {
    await pair();
    const [fromA, fromB] = await Promise.all([a.sharedSecret('requestState'), b.sharedSecret('requestState')]);
    expect(fromA?.length).toBe(32);
    expect(fromB?.equals(fromA as Buffer)).toBe(true);
    const configured = await createRedisState({ url: redis.url, prefix: `t${run}:`, logger, keys: { requestState: 'x'.repeat(40) } });
    try {
      expect((await configured.sharedSecret('requestState'))?.toString()).toBe('x'.repeat(40));
    } finally {
      await configured.close();
    }
  });

  it('a record is taken by one of two deciders; expired records are not listed', async () => {
    await pair();
    await a.putRecord('approvals', 'id1', 'pending one', 60_000);
    await a.putRecord('approvals', 'id2', 'short', 50);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await b.listRecords('approvals')).toEqual(['pending one']);
    const taken = await Promise.all([a.takeRecord('approvals', 'id1'), b.takeRecord('approvals', 'id1')]);
    expect(taken.filter((value) => value !== undefined)).toEqual(['pending one']);
    expect(await a.listRecords('approvals')).toEqual([]);
  });

  it('a message published by one replica reaches the other', async () => {
    await pair();
    const heard = new Promise<string>((resolve) => b.subscribe('news', resolve));
    // The subscription is made asynchronously; publish until it is heard.
    const timer = setInterval(() => void a.publish('news', 'hello'), 50);
    try {
      await expect(heard).resolves.toBe('hello');
    } finally {
      clearInterval(timer);
    }
  });

  it('limits are counted once for all replicas: a bucket of 4 lets exactly 4 of 20 concurrent takes through', async () => {
    await pair();
    const bucket: LimitItem[] = [{ type: 'rate', key: 'alice-weather', rate: 4 / 60_000, capacity: 4 }];
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, index) => limitsOf(index % 2 ? a : b).take(bucket, `h${index}`)));
    expect(verdicts.filter((verdict) => verdict?.ok)).toHaveLength(4);
    const refused = verdicts.find((verdict) => verdict && !verdict.ok);
    expect(refused).toMatchObject({ ok: false, index: 0 });
    expect(refused && !refused.ok && refused.waitMs).toBeGreaterThan(10_000);
  });

  it('a concurrency cap holds across replicas until a slot is released', async () => {
    await pair();
    const cap: LimitItem[] = [{ type: 'cap', key: 'one-at-a-time', max: 1 }];
    expect(await a.limits?.take(cap, 'first')).toEqual({ ok: true });
    expect(await b.limits?.check(cap)).toMatchObject({ ok: false, index: 0 });
    expect(await b.limits?.take(cap, 'second')).toMatchObject({ ok: false });
    await a.limits?.release(['one-at-a-time'], 'first');
    expect(await b.limits?.take(cap, 'second')).toEqual({ ok: true });
  });

  it('a slot is held while its replica lives (its lease is renewed) and freed when the replica dies without giving it back', async () => {
    await pair();
    const lease = 1_000;
    const holder = await createRedisState({ url: redis.url, prefix: `t${run}:`, replica: 'short-lived', logger, slotLeaseMs: lease });
    const cap: LimitItem[] = [{ type: 'cap', key: 'leased', max: 1 }];
    expect(await limitsOf(holder).take(cap, 'call-1')).toEqual({ ok: true });
    // Two and a half leases later the slot is still held: the holder renews it.
    await new Promise((resolve) => setTimeout(resolve, lease * 2.5));
    expect(await limitsOf(a).check(cap)).toMatchObject({ ok: false });
    // The holder goes away (as a killed replica would: no release); the lease runs out.
    await holder.close();
    const freed = await waitFor(async () => (await limitsOf(a).check(cap)).ok, Boolean, 5_000);
    expect(freed).toBe(true);
  });

  it('fails closed while Redis is away, and works again when it is back, without reopening', async () => {
    await pair();
    const key = await a.sharedSecret('relationship');
    await redis.stop();
    await waitFor(() => Promise.resolve(a.health().ok), (ok) => !ok, 20_000);
    expect(a.health()).toMatchObject({ kind: 'redis', ok: false });
    expect(a.health().error).toContain('unreachable');
    const failure = await a.claimOnce('while-down', 1000).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isToolportError(failure) && failure.code).toBe('STATE_UNAVAILABLE');
    expect(isToolportError(failure) && failure.shortMessage).toMatch(/shared state \(Redis\) is unavailable/);
    await expect(a.limits?.take([{ type: 'cap', key: 'x', max: 5 }], 'h')).rejects.toThrow(/unavailable/);
    await redis.start();
    await waitFor(() => Promise.resolve(a.health().ok && b.health().ok), Boolean, 20_000);
    expect(await a.claimOnce('after', 1000)).toBe(true);
    expect(await b.claimOnce('after', 1000)).toBe(false);
    // Redis came back empty; the replicas put the shared keys back, so a replica started now gets the same one.
    const later = await open(`t${run}:`, 'c');
    try {
      expect((await later.sharedSecret('relationship'))?.equals(key as Buffer)).toBe(true);
    } finally {
      await later.close();
    }
  }, 40_000);
});

describe('a Redis that is not there at start', () => {
  it('refuses with a message naming state.redis.url, without the password', async () => {
    const port = await freePort();
    const started = Date.now();
    const failure = await createRedisState({ url: `redis://user:hunter2@127.0.0.1:${port}`, prefix: 'x:', logger }).then(
      async (state) => {
        await state.close();
        return undefined;
      },
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(new RegExp(`^cannot reach the shared state at redis://user:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(state\\.redis\\.url\\): .*ECONNREFUSED`));
    expect(failure?.message).toContain('toolport does not start without it');
    expect(failure?.message).not.toContain('hunter2');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
