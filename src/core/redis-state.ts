// The shared state in Redis (≥ 7, or Valkey), for several toolport replicas behind one load
// balancer. Commands are never queued while the connection is down: they fail at once with
// a StateUnavailable error, so a caller refuses instead of waiting or skipping a check. The
// client reconnects by itself; health() says whether it is connected now. Limits run as one
// Lua script per check, on the Redis clock, so every replica counts the same tokens.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import { ErrorCode, ToolportError } from './errors.js';
import type { Logger } from './logger.js';
import { replicaName, stateUnavailable, type LimitItem, type LimitVerdict, type SharedState, type StateHealth } from './shared-state.js';

export interface RedisStateOptions {
  /** redis://[user:password@]host:port[/db] or rediss://… */
  url: string;
  /** Put in front of every key and channel, so several deployments can share one Redis. */
  prefix: string;
  replica?: string | undefined;
  /** Configured secrets (`state.keys`), by name; they win over the ones kept in Redis. */
  keys?: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  /** How long the first connection may take before toolport refuses to start. */
  connectTimeoutMs?: number;
  /** How long one command may take before it counts as failed. */
  commandTimeoutMs?: number;
  /** How long a concurrency slot is held without being renewed (a replica that died loses its slots after this). */
  slotLeaseMs?: number;
}

/** The URL without its password, for messages and logs. */
export function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(an unparseable URL)';
  }
}


// KEYS: one per item. ARGV: mode (check|take), holder, lease ms, then per item: type (r|c), a, b
// (r: tokens per ms, capacity; c: max). Returns {0, 0} to go ahead, or {index (1-based), wait ms}.
const limitScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local take = ARGV[1] == 'take'
local holder = ARGV[2]
local lease = tonumber(ARGV[3])
local levels = {}
for i = 1, #KEYS do
  local base = 3 + (i - 1) * 3
  local kind = ARGV[base + 1]
  local a = tonumber(ARGV[base + 2])
  local b = tonumber(ARGV[base + 3])
  if kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now)
    if redis.call('ZCARD', KEYS[i]) >= a then return {i, 1000} end
  else
    local tokens = b
    local saved = redis.call('HMGET', KEYS[i], 't', 'u')
    if saved[1] then tokens = math.min(b, tonumber(saved[1]) + (now - tonumber(saved[2])) * a) end
    if tokens < 1 then return {i, math.ceil((1 - tokens) / a)} end
    levels[i] = tokens
  end
end
if take then
  for i = 1, #KEYS do
    local base = 3 + (i - 1) * 3
    if ARGV[base + 1] == 'c' then
      redis.call('ZADD', KEYS[i], now + lease, holder)
      redis.call('PEXPIRE', KEYS[i], lease)
    else
      local a = tonumber(ARGV[base + 2])
      local b = tonumber(ARGV[base + 3])
      redis.call('HSET', KEYS[i], 't', string.format('%.17g', levels[i] - 1), 'u', now)
      redis.call('PEXPIRE', KEYS[i], math.ceil(b / a) + 1000)
    end
  end
end
return {0, 0}
`;

// KEYS: cap keys. ARGV: lease ms, then one holder per key. Pushes the leases of live slots forward.
const renewScript = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + lease, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], lease)
end
return #KEYS
`;

type LimitClient = Redis & {
  toolportLimit(numKeys: number, ...args: (string | number)[]): Promise<[number, number]>;
  toolportRenew(numKeys: number, ...args: (string | number)[]): Promise<number>;
};

/** Connects to Redis; rejects with a message naming `state.redis.url` when it cannot. */
export async function createRedisState(options: RedisStateOptions): Promise<SharedState> {
  const { logger, prefix } = options;
  const slotLeaseMs = options.slotLeaseMs ?? 30_000;
  const where = describeRedisUrl(options.url);
  const notYet = 'not connected yet';
  let lastError = notYet;
  let closed = false;
  // Until the first connection works, failures are the start's to report, not the log's.
  let started = false;
  const client = new Redis(options.url, {
    lazyConnect: true,
    // Fail closed: no command waits for a connection that is down, none is retried blindly.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    retryStrategy: (attempt) => (closed ? null : Math.min(100 * attempt, 2_000)),
  }) as LimitClient;
  client.defineCommand('toolportLimit', { lua: limitScript });
  client.defineCommand('toolportRenew', { lua: renewScript });
  // Subscriptions are restored by the client after a reconnect.
  const subscriber = client.duplicate({ enableOfflineQueue: true });

  let down = false;
  const watch = (connection: Redis, name: 'commands' | 'messages'): void => {
    // One error line per outage and connection, not one per reconnect attempt.
    let reported = false;
    connection.on('error', (error: Error) => {
      if (name === 'commands' || lastError === notYet) lastError = error.message || error.name;
      if (!started) return;
      if (!reported && !closed) logger.error({ err: error, redis: where, connection: name }, 'the shared state (Redis) is unreachable: calls that need it are refused until it is back');
      reported = true;
    });
    connection.on('close', () => {
      if (name !== 'commands' || closed || !started) return;
      if (!down) lastError = 'the connection was closed';
      if (!down) logger.error({ redis: where }, 'lost the connection to the shared state (Redis): calls that need it are refused until it is back');
      down = true;
    });
    connection.on('ready', () => {
      reported = false;
      if (name !== 'commands') return;
      if (down && !closed) {
        logger.warn({ redis: where }, 'the shared state (Redis) is reachable again');
        reseed();
      }
      down = false;
    });
  };
  watch(client, 'commands');
  watch(subscriber, 'messages');

  const refuseStart = (error: unknown): never => {
    closed = true;
    client.disconnect();
    subscriber.disconnect();
    // The client's own rejection says only "Connection is closed"; the error event said why.
    const why = lastError !== notYet ? lastError : error instanceof Error ? error.message : String(error);
    throw new ToolportError(
      ErrorCode.StateUnavailable,
      `cannot reach the shared state at ${where} (state.redis.url): ${why}; toolport does not start without it (start Redis, or remove state.redis to keep state in this process)`,
      { cause: error },
    );
  };
  const startMs = (options.connectTimeoutMs ?? 5_000) + 1_000;
  let startTimer: NodeJS.Timeout | undefined;
  const connecting = (async () => {
    await client.connect();
    await subscriber.connect();
    await client.ping();
  })();
  // Whichever way it ends after a timeout, it was already reported.
  connecting.catch(() => {});
  try {
    await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        // A server that accepts the connection but never gets ready (a wrong password, say).
        startTimer = setTimeout(() => reject(new Error(`no answer within ${startMs} ms`)), startMs);
      }),
    ]);
  } catch (error) {
    return refuseStart(error);
  } finally {
    clearTimeout(startTimer);
  }
  started = true;

  const key = (...parts: string[]): string => `${prefix}${parts.join(':')}`;
  // The shared keys this replica uses. A Redis that came back empty (no persistence) gets
  // them again, so a replica started later does not make different ones.
  const knownSecrets = new Map<string, string>();
  function reseed(): void {
    for (const [name, hex] of knownSecrets) {
      client.set(key('secret', name), hex, 'NX').catch((error: unknown) => logger.warn({ err: error }, `could not restore the shared ${name} key in Redis`));
    }
  }
  /** Runs one operation, turning any failure of the store into StateUnavailable. */
  async function run<T>(what: string, operation: () => Promise<T>): Promise<T> {
    if (client.status !== 'ready') throw stateUnavailable(what, `not connected: ${lastError}`);
    try {
      return await operation();
    } catch (error) {
      throw stateUnavailable(what, error instanceof Error ? error.message : String(error), error);
    }
  }

  const local = new EventEmitter();
  local.setMaxListeners(0);
  const subscribed = new Map<string, number>();
  subscriber.on('message', (channel: string, message: string) => {
    if (channel.startsWith(prefix)) local.emit(channel.slice(prefix.length), message);
  });

  // Concurrency slots held by this replica's calls, renewed until released.
  const held = new Map<string, { capKey: string; holder: string }>();
  const renewer = setInterval(() => {
    if (held.size === 0 || client.status !== 'ready') return;
    const entries = [...held.values()];
    client
      .toolportRenew(entries.length, ...entries.map((entry) => key('limit', entry.capKey)), slotLeaseMs, ...entries.map((entry) => entry.holder))
      .catch((error: unknown) => logger.debug({ err: error }, 'renewing concurrency slots failed'));
  }, slotLeaseMs / 3);
  renewer.unref();

  const limitArgs = (items: readonly LimitItem[], mode: 'check' | 'take', holder: string): (string | number)[] => [
    ...items.map((item) => key('limit', item.key)),
    mode,
    holder,
    slotLeaseMs,
    ...items.flatMap((item) => (item.type === 'rate' ? ['r', item.rate, item.capacity] : ['c', item.max, 0])),
  ];
  const verdict = ([index, waitMs]: [number, number]): LimitVerdict => (index === 0 ? { ok: true } : { ok: false, index: index - 1, waitMs });

  const replica = replicaName(options.replica);
  logger.info({ redis: where, replica }, 'shared state in Redis');

  return {
    kind: 'redis',
    shared: true,
    replica,
    health(): StateHealth {
      return client.status === 'ready' ? { kind: 'redis', ok: true } : { kind: 'redis', ok: false, error: `Redis at ${where} unreachable: ${lastError}` };
    },
    claimOnce: (id, ttlMs) => run('claiming a single-use approval', async () => (await client.set(key('once', id), '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK'),
    async sharedSecret(name) {
      const configured = options.keys?.[name];
      if (configured !== undefined) return Buffer.from(configured, 'utf8');
      return run(`reading the shared ${name} key`, async () => {
        // Made once: the first replica's key wins, the others read it.
        await client.set(key('secret', name), randomBytes(32).toString('hex'), 'NX');
        const value = await client.get(key('secret', name));
        if (value === null || !/^[0-9a-f]{64}$/.test(value)) throw new Error(`${key('secret', name)} does not hold 64 hex digits`);
        knownSecrets.set(name, value);
        return Buffer.from(value, 'hex');
      });
    },
    putRecord: (space, id, value, ttlMs) =>
      run(`storing ${space} ${id}`, async () => {
        const ttl = Math.max(1, Math.ceil(ttlMs));
        await client.multi().set(key('record', space, id), value, 'PX', ttl).zadd(key('records', space), Date.now() + ttl, id).exec();
      }),
    takeRecord: (space, id) =>
      run(`taking ${space} ${id}`, async () => {
        const value = await client.getdel(key('record', space, id));
        await client.zrem(key('records', space), id);
        return value ?? undefined;
      }),
    listRecords: (space) =>
      run(`listing ${space}`, async () => {
        const index = key('records', space);
        await client.zremrangebyscore(index, '-inf', Date.now() - 60_000);
        const ids = await client.zrange(index, 0, -1);
        if (ids.length === 0) return [];
        const values = await client.mget(...ids.map((id) => key('record', space, id)));
        return values.filter((value): value is string => value !== null);
      }),
    mapGet: (map, field) => run(`reading ${map}`, async () => (await client.hget(key('map', map), field)) ?? undefined),
    mapSet: (map, field, value) =>
      run(`writing ${map}`, async () => {
        if (value === undefined) await client.hdel(key('map', map), field);
        else await client.hset(key('map', map), field, value);
      }),
    publish: (channel, message) =>
      run(`telling the other replicas (${channel})`, async () => {
        await client.publish(key(channel), message);
      }),
    subscribe(channel, listener) {
      local.on(channel, listener);
      const count = (subscribed.get(channel) ?? 0) + 1;
      subscribed.set(channel, count);
      if (count === 1) subscriber.subscribe(key(channel)).catch((error: unknown) => logger.error({ err: error, channel }, 'cannot subscribe to the shared state'));
      return () => {
        local.off(channel, listener);
        const left = (subscribed.get(channel) ?? 1) - 1;
        if (left > 0) subscribed.set(channel, left);
        else {
          subscribed.delete(channel);
          subscriber.unsubscribe(key(channel)).catch(() => {});
        }
      };
    },
    limits: {
      check: (items) => run('checking rate limits', async () => verdict(await client.toolportLimit(items.length, ...limitArgs(items, 'check', '')))),
      async take(items, holder) {
        const result = await run('taking rate limits', async () => verdict(await client.toolportLimit(items.length, ...limitArgs(items, 'take', holder))));
        if (result.ok) for (const item of items) if (item.type === 'cap') held.set(`${item.key}\u0000${holder}`, { capKey: item.key, holder });
        return result;
      },
      async release(capKeys, holder) {
        for (const capKey of capKeys) held.delete(`${capKey}\u0000${holder}`);
        if (capKeys.length === 0) return;
        // A slot that cannot be given back now runs out with its lease.
        await run('releasing concurrency slots', async () => {
          const batch = client.multi();
          for (const capKey of capKeys) batch.zrem(key('limit', capKey), holder);
          await batch.exec();
        });
      },
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(renewer);
      await Promise.allSettled([client.quit(), subscriber.quit()]);
      client.disconnect();
      subscriber.disconnect();
    },
  };
}
