// Core benchmark: an echo call through toolport vs a bare MCP SDK v2 echo server, measured
// in the same run, over stdio and Streamable HTTP (2025-11-25 and 2026-07-28 eras each) and
// legacy SSE.
// Reports p50/p90/p99 latency, calls/s with 16 in flight, and cold start to the first
// tools/list, plus the toolport/bare ratios. Not part of CI: run `npm run bench`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { startHttp } from './servers/start-http.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/toolport.js', import.meta.url));
const bare = fileURLToPath(new URL('./servers/bare-echo.mjs', import.meta.url));
const plugin = fileURLToPath(new URL('./fixtures/echo.mjs', import.meta.url));

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const callsPerRound = Number(process.env.BENCH_CALLS ?? 250);
// The warm-up of perf-baselines.md: 500 calls of 64 B and 50 of 16 KiB per target.
const warmupCalls = Number(process.env.BENCH_WARMUP ?? 500);
const largeWarmupCalls = Math.round(warmupCalls / 10);
const inFlight = 16;
const throughputCalls = 600;
const throughputMs = 3_000;
const coldStarts = Number(process.env.BENCH_COLD ?? 5);
const text = 'x'.repeat(64);
const largeText = 'x'.repeat(16 * 1024);

const servers = {
  bare: { tool: 'echo', stdio: [bare], http: [bare, '--http'], sse: [bare, '--sse'] },
  toolport: {
    tool: 'bench__echo',
    stdio: [bin, 'serve', plugin, '--stdio', '--log-level', 'silent'],
    http: [bin, 'serve', plugin, '--http', '--port', '0', '--log-level', 'silent'],
    sse: [bin, 'serve', plugin, '--http', '--port', '0', '--log-level', 'silent'],
  },
};

const targets = [
  { name: 'stdio-2025', server: 'bare', transport: 'stdio', era: 'legacy' },
  { name: 'stdio-2025', server: 'toolport', transport: 'stdio', era: 'legacy' },
  { name: 'stdio-2026', server: 'bare', transport: 'stdio', era: 'modern' },
  { name: 'stdio-2026', server: 'toolport', transport: 'stdio', era: 'modern' },
  { name: 'http-2025', server: 'bare', transport: 'http', era: 'legacy' },
  { name: 'http-2025', server: 'toolport', transport: 'http', era: 'legacy' },
  { name: 'http-2026', server: 'bare', transport: 'http', era: 'modern' },
  { name: 'http-2026', server: 'toolport', transport: 'http', era: 'modern' },
  { name: 'sse', server: 'bare', transport: 'sse', era: 'legacy' },
  { name: 'sse', server: 'toolport', transport: 'sse', era: 'legacy' },
];
const only = process.env.BENCH_ONLY?.split(',');
if (only) targets.splice(0, targets.length, ...targets.filter((t) => only.includes(t.name)));

async function connect(target) {
  const spec = servers[target.server];
  const options = target.era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {};
  const client = new Client({ name: 'bench', version: '1.0.0' }, options);
  if (target.transport === 'stdio') {
    await client.connect(new StdioClientTransport({ command: process.execPath, args: spec.stdio, cwd: root, stderr: 'ignore' }));
    return { client, stop: () => client.close() };
  }
  const { child, url } = await startHttp(spec[target.transport], { cwd: root });
  const transport =
    target.transport === 'sse'
      ? new SSEClientTransport(new URL(url.replace(/\/mcp$/, '/sse')))
      : new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return {
    client,
    stop: async () => {
      await client.close();
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

const call = (target, client, payload = text) => client.callTool({ name: servers[target.server].tool, arguments: { text: payload } });

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
const median = (values) => percentile([...values].sort((a, b) => a - b), 50);

async function sequential(target, client, n) {
  const samples = [];
  for (let index = 0; index < n; index += 1) {
    const started = process.hrtime.bigint();
    await call(target, client);
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return samples;
}

async function throughput(target, client) {
  let issued = 0;
  let done = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < throughputCalls && performance.now() - started < throughputMs) {
      issued += 1;
      await call(target, client);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return done / ((performance.now() - started) / 1000);
}

async function coldStart(target) {
  const started = performance.now();
  const { client, stop } = await connect(target);
  await client.listTools();
  const elapsed = performance.now() - started;
  await stop();
  return elapsed;
}

const key = (target) => `${target.server}:${target.name}`;

async function main() {
  const connections = new Map();
  for (const target of targets) {
    const connection = await connect(target);
    connections.set(key(target), connection);
    await sequential(target, connection.client, warmupCalls);
    for (let index = 0; index < largeWarmupCalls; index += 1) await call(target, connection.client, largeText);
  }
  const latency = new Map(targets.map((t) => [key(t), { pooled: [], roundP50: [], cps: [] }]));
  for (let round = 0; round < rounds; round += 1) {
    // Rotate the order each round so no target always runs first.
    const order = targets.map((_, index) => targets[(index + round) % targets.length]);
    for (const target of order) {
      const { client } = connections.get(key(target));
      const samples = await sequential(target, client, callsPerRound);
      const entry = latency.get(key(target));
      entry.pooled.push(...samples);
      entry.roundP50.push(median(samples));
      entry.cps.push(await throughput(target, client));
    }
    process.stderr.write(`round ${round + 1}/${rounds} done\n`);
  }
  for (const connection of connections.values()) await connection.stop();

  const cold = new Map(targets.map((t) => [key(t), []]));
  for (let index = 0; index < coldStarts; index += 1) {
    for (const target of targets) cold.get(key(target)).push(await coldStart(target));
  }

  const rows = targets.map((target) => {
    const entry = latency.get(key(target));
    const sorted = [...entry.pooled].sort((a, b) => a - b);
    return {
      target: key(target),
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      callsPerSecond: median(entry.cps),
      coldStartMs: median(cold.get(key(target))),
    };
  });
  const ratios = [...new Set(targets.map((t) => t.name))].map((name) => {
    const b = latency.get(`bare:${name}`);
    const t = latency.get(`toolport:${name}`);
    const perRound = b.roundP50.map((p50, index) => t.roundP50[index] / p50);
    // Both targets ran in the same round, close in time: their ratio moves less with the
    // machine's load than the ratio of the two medians does (perf-baselines.md reports it).
    const cpsPerRound = b.cps.map((cps, index) => t.cps[index] / cps);
    return {
      transport: name,
      p50Ratio: median(perRound),
      p50RatioRange: [Math.min(...perRound), Math.max(...perRound)],
      callsPerSecondRatio: median(t.cps) / median(b.cps),
      callsPerSecondRoundRatio: median(cpsPerRound),
      callsPerSecondRoundRange: [Math.min(...cpsPerRound), Math.max(...cpsPerRound)],
      coldStartRatio: median(cold.get(`toolport:${name}`)) / median(cold.get(`bare:${name}`)),
    };
  });

  // A column with no samples (BENCH_COLD=0 skips cold starts) prints as a dash.
  const fmt = (n, digits = 0) => (n === undefined ? '-' : n.toFixed(digits)).padStart(8);
  process.stdout.write(`\n${'target'.padEnd(22)}  p50 µs    p90 µs    p99 µs   calls/s  cold ms\n`);
  for (const row of rows) {
    process.stdout.write(
      `${row.target.padEnd(22)}${fmt(row.p50)}  ${fmt(row.p90)}  ${fmt(row.p99)}  ${fmt(row.callsPerSecond)} ${fmt(row.coldStartMs)}\n`,
    );
  }
  process.stdout.write(`\ntoolport / bare SDK (same run; p50 ratio is the median of per-round ratios; calls/s: ratio of the medians, and the median of per-round ratios)\n`);
  for (const ratio of ratios) {
    process.stdout.write(
      `${ratio.transport.padEnd(12)} p50 ${ratio.p50Ratio.toFixed(2)}x (rounds ${ratio.p50RatioRange.map((r) => r.toFixed(2)).join('-')})  calls/s ${ratio.callsPerSecondRatio.toFixed(2)}x (per round ${ratio.callsPerSecondRoundRatio.toFixed(2)}x, ${ratio.callsPerSecondRoundRange.map((r) => r.toFixed(2)).join('-')})${Number.isFinite(ratio.coldStartRatio) ? `  cold start ${ratio.coldStartRatio.toFixed(2)}x` : ''}\n`,
    );
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  const file = new URL(`./results/core-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, import.meta.url);
  writeFileSync(file, JSON.stringify({ rounds, callsPerRound, inFlight, rows, ratios, node: process.version }, null, 2));
  process.stdout.write(`\nraw results: ${fileURLToPath(file)}\n`);
}

await main();
