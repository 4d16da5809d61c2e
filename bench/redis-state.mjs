// Shared-state benchmark (issue 15). Part 1: the p50 a rate-limited call pays with its
// buckets in Redis (loopback) over the same call with in-memory buckets, in one process,
// interleaved rounds, same run. Part 2: calls/s of 1, 2 and 3 replicas (real `toolport
// serve` processes sharing a real redis-server) with 64 calls in flight over HTTP
// 2026-07-28, the client spreading calls round robin, with the CPU each process used. On a
// 2-core machine the client and Redis compete with the replicas for CPU: read the figures
// with that caveat; the per-replica estimate divides by CPU per call. Not part of CI.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseConfig } from '../dist/config/load.js';
import { createToolport } from '../dist/toolport.js';
import { startHttp } from './servers/start-http.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/toolport.js', import.meta.url));
const plugin = fileURLToPath(new URL('./fixtures/echo.mjs', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const callsPerRound = Number(process.env.BENCH_CALLS ?? 500);
const inFlight = 64;
const throughputMs = Number(process.env.BENCH_THROUGHPUT_MS ?? 5_000);
const text = 'x'.repeat(64);
// A limit that never refuses, so every call runs the limit steps (check + take) and the plugin.
const limits = [{ tool: 'bench__echo', perSecond: 1_000_000, burst: 1_000_000 }];

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (values) => percentile([...values].sort((a, b) => a - b), 50);

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis() {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return { child, url: `redis://127.0.0.1:${port}` };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('redis-server did not start');
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100;
}

async function partOne(redisUrl) {
  const block = { path: plugin, readOnly: ['*'] };
  const memory = await createToolport(parseConfig({ plugins: [block], limits }));
  const shared = await createToolport(parseConfig({ plugins: [block], limits, state: { redis: { url: redisUrl, prefix: 'bench1:' } } }));
  const targets = { memory, redis: shared };
  const call = (toolport) => toolport.callTool('bench__echo', { text });
  for (const toolport of Object.values(targets)) for (let index = 0; index < 500; index += 1) await call(toolport);
  const roundP50 = { memory: [], redis: [] };
  const pooled = { memory: [], redis: [] };
  for (let round = 0; round < rounds; round += 1) {
    const order = round % 2 === 0 ? ['memory', 'redis'] : ['redis', 'memory'];
    for (const name of order) {
      const samples = [];
      for (let index = 0; index < callsPerRound; index += 1) {
        const started = process.hrtime.bigint();
        const result = await call(targets[name]);
        samples.push(Number(process.hrtime.bigint() - started) / 1000);
        if (result.isError) throw new Error(`${name}: ${JSON.stringify(result.content)}`);
      }
      roundP50[name].push(median(samples));
      pooled[name].push(...samples);
    }
  }
  await memory.close();
  await shared.close();
  const deltas = roundP50.redis.map((p50, index) => p50 - roundP50.memory[index]);
  return {
    memoryP50: median(pooled.memory),
    redisP50: median(pooled.redis),
    addedP50: median(deltas),
    addedRange: [Math.min(...deltas), Math.max(...deltas)],
  };
}

/** A replica sharing its state through Redis, or (redisUrl undefined) the in-memory baseline. */
function startReplica(dir, redisUrl, index) {
  const config = join(dir, `replica-${index}.yaml`);
  writeFileSync(
    config,
    [
      ...(redisUrl ? ['state:', `  redis: { url: "${redisUrl}", prefix: "bench2:" }`, `  replica: r${index}`] : []),
      'limits:',
      `  - { tool: bench__echo, perSecond: 1000000, burst: 1000000 }`,
      'plugins:',
      `  - { path: ${JSON.stringify(plugin)}, readOnly: ["*"] }`,
      '',
    ].join('\n'),
  );
  return startHttp([bin, 'serve', '--config', config, '--http', '--port', '0', '--log-level', 'warn'], { cwd: root, name: 'replica' });
}

async function partTwo(redis) {
  const dir = mkdtempSync(join(tmpdir(), 'toolport-bench-replicas-'));
  const replicas = [];
  const rows = [];
  try {
    for (let index = 0; index < 3; index += 1) replicas.push(await startReplica(dir, redis.url, index));
    // The baseline: one replica with its buckets in memory, measured in the same passes.
    const baseline = await startReplica(dir, undefined, 9);
    replicas.push(baseline);
    for (const count of [0, 1, 2, 3, 0, 1, 2, 3]) {
      const used = count === 0 ? [baseline] : replicas.slice(0, count);
      const clients = [];
      for (const replica of used) {
        const client = new Client({ name: 'bench', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
        await client.connect(new StreamableHTTPClientTransport(new URL(replica.url)));
        clients.push(client);
      }
      // Warm-up.
      await Promise.all(clients.flatMap((client) => Array.from({ length: 50 }, () => client.callTool({ name: 'bench__echo', arguments: { text } }))));
      const cpuBefore = used.map((replica) => cpuSeconds(replica.child.pid));
      const redisBefore = cpuSeconds(redis.child.pid);
      const selfBefore = process.cpuUsage();
      let next = 0;
      let done = 0;
      const started = performance.now();
      const worker = async () => {
        while (performance.now() - started < throughputMs) {
          const client = clients[next % clients.length];
          next += 1;
          const result = await client.callTool({ name: 'bench__echo', arguments: { text } });
          if (result.isError) throw new Error(JSON.stringify(result.content));
          done += 1;
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      const seconds = (performance.now() - started) / 1000;
      const replicaCpu = used.map((replica, index) => cpuSeconds(replica.child.pid) - cpuBefore[index]);
      const self = process.cpuUsage(selfBefore);
      const clientCpu = (self.user + self.system) / 1e6;
      const redisCpu = cpuSeconds(redis.child.pid) - redisBefore;
      const replicaCpuPerCallMs = (replicaCpu.reduce((a, b) => a + b, 0) / done) * 1000;
      rows.push({
        replicas: count === 0 ? '1 (memory)' : count,
        callsPerSecond: done / seconds,
        replicaCpuPercent: replicaCpu.map((cpu) => (cpu / seconds) * 100),
        clientCpuPercent: (clientCpu / seconds) * 100,
        redisCpuPercent: (redisCpu / seconds) * 100,
        replicaCpuPerCallMs,
        // What one replica could serve with a core of its own, from the CPU it spent per call.
        perReplicaEstimate: 1000 / replicaCpuPerCallMs,
      });
      await Promise.all(clients.map((client) => client.close()));
      process.stderr.write(`${count === 0 ? '1 in-memory' : count} replica(s): ${(done / seconds).toFixed(0)} calls/s\n`);
    }
  } finally {
    for (const replica of replicas) replica.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

async function main() {
  const redis = await startRedis();
  try {
    const one = await partOne(redis.url);
    process.stdout.write(
      `\nrate-limited call, in process, p50: memory ${one.memoryP50.toFixed(0)} µs, Redis ${one.redisP50.toFixed(0)} µs; ` +
        `added by Redis (median of per-round deltas) ${one.addedP50.toFixed(0)} µs (rounds ${one.addedRange.map((value) => value.toFixed(0)).join(' to ')})\n`,
    );
    const two = await partTwo(redis);
    process.stdout.write(`\nreplicas    calls/s   CPU % per replica        client CPU %  redis CPU %  replica CPU ms/call  est. calls/s per replica-core\n`);
    for (const row of two) {
      process.stdout.write(
        `${String(row.replicas).padEnd(11)} ${row.callsPerSecond.toFixed(0).padStart(7)}   ${row.replicaCpuPercent.map((value) => value.toFixed(0)).join(' / ').padEnd(22)} ${row.clientCpuPercent.toFixed(0).padStart(12)} ${row.redisCpuPercent.toFixed(0).padStart(12)} ${row.replicaCpuPerCallMs.toFixed(2).padStart(20)} ${row.perReplicaEstimate.toFixed(0).padStart(30)}\n`,
      );
    }
    process.stdout.write(`\n(2 cores shared by the client, Redis and the replicas: calls/s cannot grow past what the cores give; the last column is the estimate.)\n`);
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
    const file = new URL(`./results/redis-state-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
    writeFileSync(file, JSON.stringify({ rounds, callsPerRound, inFlight, one, two, node: process.version }, null, 2));
    process.stdout.write(`raw results: ${fileURLToPath(file)}\n`);
  } finally {
    redis.child.kill('SIGTERM');
  }
}

await main();
