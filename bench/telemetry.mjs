// Telemetry benchmark: what metrics and traces add to one call. One process, one echo plugin,
// one SDK v2 client per variant over an in-memory transport (so the server's own work is
// what differs), interleaved rounds:
//   off      no admin listener, no OTLP endpoint: telemetry is off (the default)
//   metrics  approvals.admin configured: Prometheus metrics and the console's live view kept
//   traces   OTLP traces alone, batched (BatchSpanProcessor) to a local receiver, protobuf
//   traces-json  the same in the JSON encoding (telemetry.otlp.protocol: http/json)
//   all      metrics, live view and traces (protobuf) together
//   baseline (with TOOLPORT_BASELINE=DIR, a checkout of main built with `npm run build`)
// Reports p50 per variant, the median of per-round p50 differences against `off` (and `off`
// against the baseline), in µs. Not part of CI. Tune with BENCH_ROUNDS, BENCH_CALLS, BENCH_WARMUP.
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';

const root = fileURLToPath(new URL('..', import.meta.url));
const plugin = fileURLToPath(new URL('./fixtures/echo.mjs', import.meta.url));
const rounds = Number(process.env.BENCH_ROUNDS ?? 8);
const callsPerRound = Number(process.env.BENCH_CALLS ?? 400);
const warmupCalls = Number(process.env.BENCH_WARMUP ?? 500);
const text = 'x'.repeat(64);

// A local OTLP/HTTP receiver that counts what it gets and answers at once.
let exported = 0;
const sink = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    exported += 1;
    const protobuf = req.headers['content-type']?.startsWith('application/x-protobuf');
    res.writeHead(200, { 'content-type': protobuf ? 'application/x-protobuf' : 'application/json' }).end(protobuf ? undefined : '{}');
  });
});
await new Promise((done) => sink.listen(0, '127.0.0.1', done));
const sinkUrl = `http://127.0.0.1:${sink.address().port}`;

async function load(dir) {
  const base = pathToFileURL(join(dir, 'dist/')).href;
  const [{ createToolport }, { createServerHub }, { parseConfig }] = await Promise.all([
    import(`${base}toolport.js`),
    import(`${base}server/mcp-server.js`),
    import(`${base}config/load.js`),
  ]);
  return { createToolport, createServerHub, parseConfig };
}

async function start(code, name, extra) {
  const state = mkdtempSync(join(tmpdir(), 'toolport-bench-'));
  const config = code.parseConfig({ plugins: [{ path: plugin, readOnly: ['*'] }], ...extra });
  const toolport = await code.createToolport(config, { stateDir: state });
  const hub = code.createServerHub(toolport, { name: 'toolport', version: 'bench' });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await hub.createConnectionServer({ transport: 'stdio', principal: 'local' }).connect(serverSide);
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(clientSide);
  return {
    name,
    client,
    async close() {
      await client.close();
      await hub.close();
      await toolport.close();
      rmSync(state, { recursive: true, force: true });
    },
  };
}

const admin = { approvals: { admin: { token: 'bench-admin-token-0001', port: 0 } } };
const current = await load(root);
const variants = [
  await start(current, 'off', {}),
  await start(current, 'metrics', admin),
  await start(current, 'traces', { telemetry: { otlp: { endpoint: sinkUrl } } }),
  await start(current, 'traces-json', { telemetry: { otlp: { endpoint: sinkUrl, protocol: 'http/json' } } }),
  await start(current, 'all', { ...admin, telemetry: { otlp: { endpoint: sinkUrl } } }),
];
if (process.env.TOOLPORT_BASELINE) variants.push(await start(await load(resolve(process.env.TOOLPORT_BASELINE)), 'baseline', {}));

// CPU time (user + system, µs) of the whole process per call in each timed block: it counts
// what the p50 cannot see, such as the exporter's batches and the garbage they leave.
const cpuPerCall = {};
async function timeCalls(variant, count) {
  const times = new Float64Array(count);
  const cpu = process.cpuUsage();
  for (let index = 0; index < count; index += 1) {
    const started = performance.now();
    const result = await variant.client.callTool({ name: 'bench__echo', arguments: { text } });
    times[index] = performance.now() - started;
    if (result.isError) throw new Error(`${variant.name}: ${JSON.stringify(result.content)}`);
    // The in-memory transport answers in microtasks; give timers and I/O (the exporter's
    // batches) their turn between calls, as a real server's event loop would, untimed.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(cpu);
  (cpuPerCall[variant.name] ??= []).push((used.user + used.system) / count);
  return times.sort();
}
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;

for (const variant of variants) await timeCalls(variant, warmupCalls);
for (const variant of variants) cpuPerCall[variant.name] = [];
const p50s = Object.fromEntries(variants.map((v) => [v.name, []]));
const all = Object.fromEntries(variants.map((v) => [v.name, []]));
for (let round = 0; round < rounds; round += 1) {
  // Rotate the order each round so no variant always runs first (or right after GC).
  const order = variants.map((_, index) => variants[(index + round) % variants.length]);
  for (const variant of order) {
    const times = await timeCalls(variant, callsPerRound);
    p50s[variant.name].push(pct(times, 50));
    all[variant.name].push(...times);
  }
}

const lines = [`telemetry bench: ${rounds} rounds × ${callsPerRound} calls, node ${process.version}, load ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`];
for (const variant of variants) {
  const sorted = Float64Array.from(all[variant.name]).sort();
  lines.push(`${variant.name.padEnd(11)} p50 ${us(pct(sorted, 50))}  p90 ${us(pct(sorted, 90))}  p99 ${us(pct(sorted, 99))}  CPU per call ${median(cpuPerCall[variant.name]).toFixed(1)} µs`);
}
const diff = (a, b) => p50s[a].map((value, index) => value - p50s[b][index]);
const describe = (a, b) => {
  const diffs = diff(a, b);
  const ratio = median(p50s[a].map((value, index) => value / p50s[b][index]));
  const cpuDiffs = cpuPerCall[a].map((value, index) => value - cpuPerCall[b][index]);
  return `${a} − ${b}: median of per-round p50 differences ${us(median(diffs))} (rounds ${us(Math.min(...diffs))} … ${us(Math.max(...diffs))}); ratio ${ratio.toFixed(3)}×; CPU per call ${median(cpuDiffs).toFixed(1)} µs (rounds ${Math.min(...cpuDiffs).toFixed(1)} … ${Math.max(...cpuDiffs).toFixed(1)})`;
};
lines.push(describe('metrics', 'off'), describe('traces', 'off'), describe('traces-json', 'off'), describe('all', 'off'));
if (p50s.baseline) lines.push(describe('off', 'baseline'));
lines.push(`OTLP exports received by the local receiver so far: ${exported}`);
console.log(lines.join('\n'));
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, `bench/results/telemetry-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`), `${lines.join('\n')}\n`);

for (const variant of variants) await variant.close();
sink.closeAllConnections();
sink.close();
