// Several toolport replicas behind a round-robin load balancer, sharing their state through
// a real redis-server: approvals answered on another replica, input_required retries that
// land elsewhere, replays refused everywhere, one rate limit for all, the wasm key-value
// store, tool-list changes, misrouted 2025-era sessions, Redis going away and coming back,
// and a replica killed under load. Then one promise at a time: the 30 s slot lease, an emptied
// Redis losing pending approvals, `prefix` keeping deployments apart, /healthz naming the
// replica, and reconnect attempts every 2 s at most.
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Redis } from 'ioredis';
import { useTempDir } from '../helpers/temp-dir.js';
import { adminUrlOf, decideApproval, waitForPending } from '../helpers/admin.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedCacheDir } from '../adapters/wasm/helpers.js';
import { freePort } from '../helpers/mqtt-broker.js';
import { waitFor } from '../helpers/processes.js';
import { redisMissing, startRedis, type RedisProcess } from '../helpers/redis-server.js';
import { startRoundRobinProxy, type RoundRobinProxy } from '../helpers/round-robin-proxy.js';
import { connectClient, initializeRequest, readLines, runToolport, serveConfig, type ConfiguredServer } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const shop = fileURLToPath(new URL('../fixtures/policy/shop.mjs', import.meta.url));
const e2e = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const kitchen = fileURLToPath(new URL('../fixtures/wasm/kitchen/kitchen.wasm', import.meta.url));
const adminToken = 'admin-token-for-replicas-0001';
const limitPerMinute = 5;

const replicaConfig = (ledger: string): string[] => [
  'state:',
  '  redis: { url: "${REDIS_URL}" }',
  '  replica: "${REPLICA}"',
  'policy:',
  '  rules:',
  '    - { tool: shop__refund, action: ask, channels: [inbox] }',
  'approvals:',
  '  timeoutSeconds: 60',
  '  admin: { token: "${ADMIN_TOKEN}", port: 0 }',
  'limits:',
  `  - { tool: e2e__weather, perMinute: ${limitPerMinute} }`,
  'audit: { path: ./audit.jsonl, includeArguments: true }',
  'plugins:',
  `  - path: ${shop}`,
  `    settings: { ledger: ${JSON.stringify(ledger)} }`,
  `  - path: ${e2e}`,
  `  - { path: ${kitchen}, cacheDir: ${JSON.stringify(sharedCacheDir)}, readOnly: ["*"], timeoutSeconds: 60 }`,
];

type AuditRecord = Record<string, unknown> & { phase?: string; tool?: string; outcome?: string; args?: Record<string, unknown> };

const skipReason = redisMissing;
if (skipReason) console.warn(`skipping the replica tests: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(`three replicas sharing state through Redis${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let redis: RedisProcess;
  const replicas: ConfiguredServer[] = [];
  let proxy: RoundRobinProxy;
  const scratch = useTempDir('toolport-replicas-', 'all');
  let ledger: string;

  const auditOf = async (replica: ConfiguredServer): Promise<AuditRecord[]> =>
    (await readLines(join(replica.dir, 'audit.jsonl'))).map((line) => JSON.parse(line) as AuditRecord);
  const modernClient = (url: string, capabilities = {}): Promise<Client> => connectClient('http-2026', { url }, { capabilities });

  beforeAll(async () => {
    ledger = join(scratch.path, 'ledger.txt');
    redis = await startRedis();
    // One at a time: the first one transpiles the wasm fixture into the shared cache.
    for (let index = 0; index < 3; index += 1) {
      replicas.push(await serveConfig(replicaConfig(ledger), { env: { REDIS_URL: redis.url, REPLICA: `r${index}`, ADMIN_TOKEN: adminToken } }));
    }
    proxy = await startRoundRobinProxy(replicas.map((replica) => replica.url));
  }, 240_000);

  afterAll(async () => {
    await proxy?.close();
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await redis?.stop();
  });

  it('a 2026-07-28 call that waits for approval is approved with `toolport approvals approve` on another replica', async () => {
    const client = await modernClient(proxy.url);
    try {
      const call = client.callTool({ name: 'shop__refund', arguments: { id: 41 } });
      let pending: { id: string; tool: string; replica?: string } | undefined;
      for (let attempt = 0; attempt < 400 && !pending; attempt += 1) {
        const response = await fetch(`${adminUrlOf(replicas[0] as ConfiguredServer)}/approvals`, { headers: { authorization: `Bearer ${adminToken}` } });
        pending = ((await response.json()) as { pending: { id: string; tool: string; replica?: string }[] }).pending.find((entry) => entry.tool === 'shop__refund');
        if (!pending) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      if (!pending) throw new Error('the call never reached the inbox');
      const holder = replicas.findIndex((_, index) => `r${index}` === pending.replica);
      expect(holder).toBeGreaterThanOrEqual(0);
      const other = replicas[(holder + 1) % replicas.length] as ConfiguredServer;
      const approved = await runToolport(['approvals', 'approve', pending.id, '--url', adminUrlOf(other)], { env: { TOOLPORT_ADMIN_TOKEN: adminToken } });
      expect(approved.stderr).toBe('');
      expect(approved.stdout).toBe(`${pending.id}: approved\n`);
      const started = Date.now();
      expect(textOf(await call)).toBe('refunded');
      // Woken by the published answer, not by the 5 s fallback look-up.
      expect(Date.now() - started).toBeLessThan(4_000);
      const records = await auditOf(replicas[holder] as ConfiguredServer);
      expect(records.filter((record) => record.tool === 'shop__refund' && record.phase === 'end').at(-1)).toMatchObject({ outcome: 'ok', channel: 'inbox' });
      // Decided once: the same id is gone everywhere.
      const again = await runToolport(['approvals', 'approve', pending.id, '--url', adminUrlOf(replicas[holder] as ConfiguredServer)], { env: { TOOLPORT_ADMIN_TOKEN: adminToken } });
      expect(again.code).toBe(1);
      expect(again.stderr).toContain(`no pending approval ${pending.id}`);
    } finally {
      await client.close();
    }
  });

  it('an input_required retry that reaches another replica runs the call; replaying it is refused on every replica', async () => {
    const retries: { body: string; headers: Record<string, string> }[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const body = typeof init?.body === 'string' ? init.body : '';
      if (body.includes('"inputResponses"')) retries.push({ body, headers: Object.fromEntries(new Headers(init?.headers).entries()) });
      return fetch(input, init);
    };
    const client = new Client({ name: 'replica-test', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { decision: 'once' } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(`${proxy.url}/mcp`), { fetch: recordingFetch }));
    try {
      const before = (await readLines(ledger)).length;
      const routedBefore = proxy.routed.length;
      expect(textOf(await client.callTool({ name: 'shop__order', arguments: { item: 'fries across replicas' } }))).toBe('ordered 1 fries across replicas');
      expect(retries).toHaveLength(1);
      // The asking request and its retry were served by different replicas.
      const served = proxy.routed.slice(routedBefore);
      expect(served.length).toBeGreaterThanOrEqual(2);
      expect(served.at(-1)).not.toBe(served.at(-2));
      const [retry] = retries as [(typeof retries)[number]];
      for (const replica of replicas) {
        const replayed = await fetch(`${replica.url}/mcp`, { method: 'POST', headers: retry.headers, body: retry.body });
        const text = await replayed.text();
        expect(text).toContain('this approval was already used');
        expect(text).toContain('"isError":true');
      }
      expect((await readLines(ledger)).length).toBe(before + 1);
    } finally {
      await client.close();
    }
  });

  it(`a limit of ${limitPerMinute} calls a minute holds across the replicas: exactly ${limitPerMinute} of 15 run`, async () => {
    const client = await modernClient(proxy.url);
    try {
      const results = await Promise.all(Array.from({ length: 15 }, (_, index) => client.callTool({ name: 'e2e__weather', arguments: { city: `city-${index}` } })));
      const ran = results.filter((result) => !result.isError);
      const refused = results.filter((result) => result.isError);
      expect(ran).toHaveLength(limitPerMinute);
      expect(refused).toHaveLength(15 - limitPerMinute);
      for (const result of refused) expect(textOf(result)).toMatch(/rate limit reached under limits\[0\].*retry in \d+ s$/);
      // Spread over every replica by the balancer.
      const perReplica = await Promise.all(replicas.map(async (replica) => (await auditOf(replica)).filter((record) => record.tool === 'e2e__weather' && record.phase === 'end').length));
      expect(perReplica.every((count) => count > 0)).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('a wasm key-value pair written through one replica is read through another', async () => {
    const [first, second] = [await modernClient((replicas[0] as ConfiguredServer).url), await modernClient((replicas[1] as ConfiguredServer).url)];
    try {
      const value = `shared-${Date.now()}`;
      await first.callTool({ name: 'kitchen__kv-put', arguments: { key: 'colour', value, user: 'alice' } });
      expect((await second.callTool({ name: 'kitchen__kv-read', arguments: { key: 'colour', user: 'alice' } })).structuredContent).toEqual({ result: value });
      expect((await second.callTool({ name: 'kitchen__kv-read', arguments: { key: 'colour', user: 'bob' } })).structuredContent).toEqual({ result: null });
      // Values are held in Redis's memory: one value may be 1 MiB at most.
      const tooLarge = await first.callTool({ name: 'kitchen__kv-put', arguments: { key: 'big', value: 'x'.repeat(1024 * 1024 + 1) } });
      expect(tooLarge.isError).toBe(true);
      expect(textOf(tooLarge)).toContain('a value larger than 1 MiB cannot be stored');
      expect((await second.callTool({ name: 'kitchen__kv-read', arguments: { key: 'big' } })).structuredContent).toEqual({ result: null });
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });

  it("a tool list that changes on one replica reaches another replica's clients", async () => {
    const listener = await connectClient('http-2025', { url: (replicas[1] as ConfiguredServer).url });
    const changed = new Promise<void>((resolve) => listener.setNotificationHandler('notifications/tools/list_changed', () => resolve()));
    const caller = await modernClient((replicas[0] as ConfiguredServer).url);
    try {
      await caller.callTool({ name: 'e2e__grow', arguments: {} });
      await expect(Promise.race([changed.then(() => 'told'), new Promise((resolve) => setTimeout(() => resolve('not told in 10 s'), 10_000))])).resolves.toBe('told');
    } finally {
      await Promise.all([listener.close(), caller.close()]);
    }
  });

  it('a 2025-era session id names its replica; a request routed to another replica is told which one holds it', async () => {
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const opened = await fetch(`${(replicas[0] as ConfiguredServer).url}/mcp`, { method: 'POST', headers, body: JSON.stringify(initializeRequest) });
    await opened.text();
    const session = opened.headers.get('mcp-session-id') ?? '';
    expect(session).toMatch(/^r0\.[0-9a-f-]{36}$/);
    expect(opened.headers.get('toolport-replica')).toBe('r0');
    const misrouted = await fetch(`${(replicas[1] as ConfiguredServer).url}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }),
    });
    expect(misrouted.status).toBe(421);
    const { error } = (await misrouted.json()) as { error: { message: string } };
    expect(error.message).toContain(`session ${session} is held by replica r0, and this is replica r1`);
    expect(error.message).toContain('sticky sessions');

    // A legacy SSE stream's message URL names its replica the same way.
    const stream = new AbortController();
    const sse = await fetch(`${(replicas[0] as ConfiguredServer).url}/sse`, { headers: { accept: 'text/event-stream' }, signal: stream.signal });
    try {
      const reader = (sse.body as ReadableStream<Uint8Array>).getReader();
      let received = '';
      while (!/data: (\S+)/.test(received)) received += new TextDecoder().decode((await reader.read()).value);
      const endpoint = /data: (\S+)/.exec(received)?.[1] ?? '';
      expect(endpoint).toMatch(/^\/messages\?replica=r0&sessionId=/);
      const wrongPlace = await fetch(`${(replicas[2] as ConfiguredServer).url}${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(initializeRequest) });
      expect(wrongPlace.status).toBe(421);
      expect(((await wrongPlace.json()) as { error: { message: string } }).error.message).toMatch(/is held by replica r0, and this is replica r2/);
    } finally {
      stream.abort();
    }
  });

  it('without Redis, calls that need shared state are refused and /healthz says so; when Redis is back, service resumes without a restart', async () => {
    const client = await modernClient(proxy.url);
    try {
      await redis.stop();
      for (const replica of replicas) await waitForHealth(replica.url, 503);
      const health = (await (await fetch(`${(replicas[0] as ConfiguredServer).url}/healthz`)).json()) as { status: string; state: { ok: boolean; error?: string } };
      expect(health).toMatchObject({ status: 'degraded', state: { kind: 'redis', ok: false } });
      for (let round = 0; round < replicas.length; round += 1) {
        const limited = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Nowhere' } });
        expect(limited.isError).toBe(true);
        expect(textOf(limited)).toMatch(/shared state \(Redis\) is unavailable/);
        const approval = await client.callTool({ name: 'shop__refund', arguments: { id: 7 } });
        expect(approval.isError).toBe(true);
        expect(textOf(approval)).toMatch(/was not run: the approval request failed .*shared state \(Redis\) is unavailable/);
        // A call that needs no shared state still runs.
        expect(textOf(await client.callTool({ name: 'shop__menu', arguments: {} }))).toBe('burger, fries, shake');
      }
      await redis.start();
      for (const replica of replicas) await waitForHealth(replica.url, 200);
      for (let round = 0; round < replicas.length; round += 1) {
        const again = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Somewhere' } });
        expect(textOf(again)).toContain('sun in Somewhere');
      }
      const audit = (await Promise.all(replicas.map(auditOf))).flat();
      expect(audit.filter((record) => record.outcome === 'state_unavailable').length).toBeGreaterThanOrEqual(replicas.length);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('kill -9 of one replica under load: its calls in flight fail with a clear error, every later call runs, every call that ran is audited', async () => {
    const client = await modernClient(proxy.url);
    const victim = replicas[2] as ConfiguredServer;
    try {
      const first = Array.from({ length: 30 }, (_, index) =>
        client.callTool({ name: 'e2e__slow', arguments: { steps: 20, tag: `before-${index}` } }).then(
          (result) => ({ tag: `before-${index}`, ok: !result.isError, text: textOf(result) }),
          (error: unknown) => ({ tag: `before-${index}`, ok: false, text: String(error) }),
        ),
      );
      // Kill it once it has calls running.
      for (let attempt = 0; attempt < 400; attempt += 1) {
        if ((await auditOf(victim)).some((record) => record.tool === 'e2e__slow' && record.phase === 'start')) break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      victim.process.kill('SIGKILL');
      const before = await Promise.all(first);
      const later = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          client.callTool({ name: 'e2e__slow', arguments: { steps: 2, tag: `after-${index}` } }).then(
            (result) => ({ tag: `after-${index}`, ok: !result.isError, text: textOf(result) }),
            (error: unknown) => ({ tag: `after-${index}`, ok: false, text: String(error) }),
          ),
        ),
      );
      const failed = before.filter((call) => !call.ok);
      expect(failed.length).toBeGreaterThan(0);
      for (const call of failed) expect(call.text).toMatch(/replica 2 went away while serving this request/);
      expect(later.filter((call) => !call.ok)).toEqual([]);

      const audits = await Promise.all(replicas.map(auditOf));
      const endedOk = new Set(audits.flat().filter((record) => record.phase === 'end' && record.outcome === 'ok').map((record) => record.args?.tag));
      for (const call of [...before, ...later].filter((entry) => entry.ok)) expect(endedOk.has(call.tag)).toBe(true);
      // The calls whose plugin was running when the replica died left their start lines; each
      // of them is one the client saw fail, and none of the failed calls has an ok end line.
      const victimAudit = audits[2] ?? [];
      const ended = new Set(victimAudit.filter((record) => record.phase === 'end').map((record) => record.args?.tag));
      const diedRunning = victimAudit.filter((record) => record.phase === 'start' && !ended.has(record.args?.tag)).map((record) => record.args?.tag);
      expect(diedRunning.length).toBeGreaterThan(0);
      const failedTags = new Set(failed.map((call) => call.tag));
      for (const tag of diedRunning) expect(failedTags.has(tag as string)).toBe(true);
      for (const call of failed) expect(endedOk.has(call.tag)).toBe(false);
    } finally {
      await client.close();
    }
  }, 120_000);
});

/** Waits (up to 20 s) until the replica's /healthz answers `status`. */
async function waitForHealth(url: string, status: number): Promise<void> {
  const probe = async (): Promise<number> => {
    const response = await fetch(`${url}/healthz`);
    await response.text();
    return response.status;
  };
  expect(await waitFor(probe, (answered) => answered === status, 20_000)).toBe(status);
}

describe('a replica whose Redis is not there', () => {
  it('refuses to start, saying which URL (without its password) and why', async () => {
    const port = await freePort();
    const failure = await serveConfig(['state:', '  redis: { url: "${REDIS_URL}" }'], { env: { REDIS_URL: `redis://:s3cret-pass@127.0.0.1:${port}` } }).then(
      async (server) => {
        await server.stop();
        return 'it started';
      },
      (error: unknown) => String(error),
    );
    expect(failure).toMatch(/server exited with 1 before listening/);
    expect(failure).toContain(`toolport: cannot reach the shared state at redis://:***@127.0.0.1:${port} (state.redis.url): connect ECONNREFUSED`);
    expect(failure).toContain('toolport does not start without it');
    expect(failure).not.toContain('s3cret-pass');
  });
});

describe.skipIf(skipReason !== undefined)(`replicas and their Redis, one promise at a time${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let redis: RedisProcess;
  const scratch = useTempDir('toolport-redis-promises-', 'all');
  const servers: ConfiguredServer[] = [];
  /** One command to the test's Redis, over a connection of its own (keys may hold NUL bytes). */
  const redisCall = async (command: string, ...args: (string | number)[]): Promise<unknown> => {
    const connection = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await connection.connect();
      return await connection.call(command, ...args);
    } finally {
      connection.disconnect();
    }
  };
  /** Redis's own clock, in ms (the limits run on it). */
  const redisNowMs = async (): Promise<number> => {
    const [seconds, micros] = ((await redisCall('TIME')) as string[]).map(Number) as [number, number];
    return seconds * 1000 + Math.floor(micros / 1000);
  };
  /** A replica with the given prefix and name; no `prefix` line keeps the default. */
  const serve = async (replica: string, prefix?: string): Promise<ConfiguredServer> => {
    const server = await serveConfig(
      [
        'state:',
        `  redis: { url: "\${REDIS_URL}"${prefix === undefined ? '' : `, prefix: "${prefix}"`} }`,
        `  replica: ${replica}`,
        'policy:',
        '  rules:',
        '    - { tool: shop__order, action: ask, channels: [inbox] }',
        'approvals:',
        '  timeoutSeconds: 3',
        `  admin: { token: "${adminToken}", port: 0 }`,
        'limits:',
        '  - { tool: e2e__weather, perMinute: 2, per: all }',
        '  - { tool: e2e__slow, concurrency: 1 }',
        'plugins:',
        `  - path: ${shop}`,
        `    settings: { ledger: ${JSON.stringify(join(scratch.path, `${replica}-ledger.txt`))} }`,
        `  - path: ${e2e}`,
        '    timeoutSeconds: 60',
      ],
      { env: { REDIS_URL: redis.url } },
    );
    servers.push(server);
    return server;
  };
  const pendingAt = async (server: ConfiguredServer): Promise<{ id: string }[]> => {
    const response = await fetch(`${adminUrlOf(server)}/approvals`, { headers: { authorization: `Bearer ${adminToken}` } });
    return ((await response.json()) as { pending: { id: string }[] }).pending;
  };

  beforeAll(async () => {
    redis = await startRedis();
  }, 30_000);
  afterAll(async () => {
    await Promise.allSettled(servers.map((server) => server.stop()));
    await redis?.stop();
  });

  it('a concurrency slot is leased for 30 s: a replica killed while holding one frees it within 30 s', async () => {
    await redisCall('FLUSHALL');
    const holder = await serve('lease-a');
    const other = await serve('lease-b');
    const client = await modernClientOf(holder.url);
    const running = client.callTool({ name: 'e2e__slow', arguments: { steps: 400 } }).catch((error: unknown) => error);
    try {
      const keys = await waitFor(async () => (await redisCall('KEYS', 'toolport:limit:*')) as string[], (found) => found.length > 0, 10_000);
      expect(keys).toHaveLength(1);
      // The slot is shared: the other replica's call is refused while it is held.
      const otherClient = await modernClientOf(other.url);
      try {
        const refused = await otherClient.callTool({ name: 'e2e__slow', arguments: { steps: 1 } });
        expect(refused.isError).toBe(true);
        expect(textOf(refused)).toMatch(/^e2e__slow was not run: 1 call is already running/);
      } finally {
        await otherClient.close();
      }
      holder.process.kill('SIGKILL');
      await running;
      // Nobody renews it now: it runs out when its lease does, at most 30 s from now (the last renewal).
      const [member, score] = (await redisCall('ZRANGE', keys[0] as string, 0, -1, 'WITHSCORES')) as [string, string];
      expect(member).toBeTruthy();
      const leftMs = Number(score) - (await redisNowMs());
      expect(leftMs).toBeGreaterThan(0);
      expect(leftMs).toBeLessThanOrEqual(30_000);
      // A lease of 30 s, renewed every 10 s: more than 19 s are left when the holder dies.
      expect(leftMs).toBeGreaterThan(19_000);
      expect(await redisCall('PTTL', keys[0] as string)).toBeLessThanOrEqual(30_000);
    } finally {
      await client.close().catch(() => {});
    }
  });

  it('an emptied Redis (FLUSHALL) has lost the pending approvals: nobody can approve them, and their calls are rejected at their timeout', async () => {
    await redisCall('FLUSHALL');
    const server = await serve('flushed');
    const client = await modernClientOf(server.url);
    try {
      const started = Date.now();
      const call = client.callTool({ name: 'shop__order', arguments: { item: 'fries' } });
      const id = await waitForPending(adminUrlOf(server), adminToken);
      await redisCall('FLUSHALL');
      expect(await pendingAt(server)).toEqual([]);
      expect((await decideApproval(adminUrlOf(server), adminToken, id, 'approve')).status).toBe(404);
      const result = await call;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toContain(`nobody approved the call within 3 s (approval ${id} expired)`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
      expect(await readLines(join(scratch.path, 'flushed-ledger.txt'))).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('state.redis.prefix keeps two deployments on one Redis apart: limits, approvals and keys', async () => {
    await redisCall('FLUSHALL');
    const blue = await serve('blue-1', 'blue:');
    const green = await serve('green-1', 'green:');
    const blueClient = await modernClientOf(blue.url);
    const greenClient = await modernClientOf(green.url);
    try {
      // Two calls a minute for everyone: each deployment has its own two.
      for (const client of [blueClient, greenClient]) {
        for (let index = 0; index < 2; index += 1) expect(textOf(await client.callTool({ name: 'e2e__weather', arguments: { city: 'Oslo' } }))).toContain('sun in Oslo');
      }
      expect(textOf(await blueClient.callTool({ name: 'e2e__weather', arguments: { city: 'Oslo' } }))).toMatch(/rate limit reached/);
      // A call waiting on blue is not in green's inbox, and green cannot decide it.
      const waiting = blueClient.callTool({ name: 'shop__order', arguments: { item: 'tea' } });
      const id = await waitForPending(adminUrlOf(blue), adminToken);
      expect(await pendingAt(green)).toEqual([]);
      expect((await decideApproval(adminUrlOf(green), adminToken, id, 'approve')).status).toBe(404);
      expect((await decideApproval(adminUrlOf(blue), adminToken, id, 'approve')).status).toBe(200);
      expect(textOf(await waiting)).toBe('ordered 1 tea');
      const keys = (await redisCall('KEYS', '*')) as string[];
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((key) => !key.startsWith('blue:') && !key.startsWith('green:'))).toEqual([]);
      expect(keys.some((key) => key.startsWith('blue:'))).toBe(true);
      expect(keys.some((key) => key.startsWith('green:'))).toBe(true);
    } finally {
      await Promise.all([blueClient.close(), greenClient.close()]);
    }
  });

  it('/healthz names the replica; while Redis is away the replica tries to reconnect every 2 s at most, and is back by itself', async () => {
    const server = await serve('r7');
    const health = async (): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await fetch(`${server.url}/healthz`);
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await health()).toEqual({ status: 200, body: { status: 'ok', replica: 'r7', state: { kind: 'redis', ok: true } } });
    await redis.stop();
    // In Redis's place, a listener that notes each connection attempt and hangs up at once.
    const attempts: number[] = [];
    const stand = createNetServer((socket) => {
      attempts.push(Date.now());
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => stand.once('error', reject).listen(redis.port, '127.0.0.1', () => resolve()));
    const down = Date.now();
    try {
      const degraded = await waitFor(health, (answer) => answer.status === 503, 10_000);
      expect(degraded.body).toMatchObject({ status: 'degraded', replica: 'r7', state: { kind: 'redis', ok: false } });
      // The interval grows by 100 ms an attempt, so it reaches its longest after about 21 s; watch well past that.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 30_000 - (Date.now() - down))));
    } finally {
      await new Promise<void>((resolve) => stand.close(() => resolve()));
    }
    await redis.start();
    const back = Date.now();
    const healthy = await waitFor(health, (answer) => answer.status === 200, 10_000);
    expect(healthy.body).toEqual({ status: 'ok', replica: 'r7', state: { kind: 'redis', ok: true } });
    expect(Date.now() - back).toBeLessThanOrEqual(2_750);

    // Two connections (commands, messages) retry side by side: attempts within 500 ms of each other are one round.
    const late = attempts.filter((time) => time - down > 15_000);
    const rounds = late.filter((time, index) => index === 0 || time - (late[index - 1] as number) > 500);
    const gaps = rounds.slice(1).map((time, index) => time - (rounds[index] as number));
    expect(gaps.length, `attempts after 15 s: ${late.map((time) => time - down).join(', ')}`).toBeGreaterThanOrEqual(5);
    // The replica waits 2 s between attempts; a gap adds the time to notice the hang-up and to be
    // scheduled again, which on a busy 2-core machine running other test files was up to ~0.4 s.
    expect(Math.max(...gaps), `gaps: ${gaps.join(', ')}`).toBeLessThanOrEqual(2_600);
    // And it kept trying: the last round is at most 2 s (and that latency) before the listener went away.
    expect(down + 30_000 - (rounds.at(-1) as number)).toBeLessThanOrEqual(2_600);
  }, 60_000);
});

function modernClientOf(url: string): Promise<Client> {
  return connectClient('http-2026', { url });
}
