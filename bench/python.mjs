// Benchmark of the python kind: one call to a trivial ScaiWave tool through toolport's
// pipeline (registry, argument check, adapter, RPC, Python host) against a bare JSON-lines
// round trip to a persistent python3 child, measured in the same run with interleaved
// rounds (see shared/reference/perf-baselines.md). Run: npm run build && node bench/python.mjs
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createToolport, parseConfig } from '../dist/index.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const perRound = Number(process.env.BENCH_CALLS ?? 400);
const warmup = 300;
const python = process.env.TOOLPORT_PYTHON ?? 'python3';
const small = 'x'.repeat(64);
const large = 'y'.repeat(16 * 1024);

/** The baseline primitive: a python3 child echoing JSON lines over stdin/stdout. */
async function startRawChild() {
  const script = [
    'import json, sys',
    'for line in sys.stdin:',
    '    message = json.loads(line)',
    '    sys.stdout.write(json.dumps({"id": message["id"], "result": {"text": message["params"]["text"]}}) + "\\n")',
    '    sys.stdout.flush()',
  ].join('\n');
  const child = spawn(python, ['-u', '-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdout.setEncoding('utf8');
  let buffer = '';
  const waiting = new Map();
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const message = JSON.parse(buffer.slice(0, newline));
      buffer = buffer.slice(newline + 1);
      waiting.get(message.id)?.(message.result.text);
      waiting.delete(message.id);
    }
  });
  let next = 0;
  return {
    call(text) {
      const id = ++next;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        child.stdin.write(`${JSON.stringify({ id, method: 'call', params: { text } })}\n`);
      });
    },
    async close() {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}

async function startToolport() {
  const path = fileURLToPath(new URL('./python-echo-plugin.py', import.meta.url));
  const toolport = await createToolport(parseConfig({ plugins: [{ path, kind: 'python', python }] }));
  if (toolport.diagnostics.length > 0) throw new Error(toolport.diagnostics.map((d) => d.message).join('\n'));
  return {
    async call(text) {
      const outcome = await toolport.call('bench__echo', { text });
      return outcome.content[0].text;
    },
    close: () => toolport.close(),
  };
}

async function sample(target, text, count) {
  const times = new Float64Array(count);
  for (let index = 0; index < count; index += 1) {
    const started = process.hrtime.bigint();
    const answer = await target.call(text);
    times[index] = Number(process.hrtime.bigint() - started) / 1000;
    if (answer.length !== text.length) throw new Error('wrong answer');
  }
  return times;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const median = (values) => percentile(values, 50);

/** Calls per second with `concurrency` calls kept in flight for `ms`. */
async function throughput(target, text, concurrency, ms) {
  let done = 0;
  const until = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < until) {
      await target.call(text);
      done += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / ((performance.now() - started) / 1000);
}

async function main() {
  const targets = { raw: await startRawChild(), toolport: await startToolport() };
  const results = {};
  for (const [size, text] of [['64 B', small], ['16 KiB', large]]) {
    for (const target of Object.values(targets)) await sample(target, text, size === '64 B' ? warmup : warmup / 6);
    const pooled = { raw: [], toolport: [] };
    const roundRatios = [];
    const roundDeltas = [];
    const count = size === '64 B' ? perRound : Math.ceil(perRound / 3);
    for (let round = 0; round < rounds; round += 1) {
      const order = round % 2 === 0 ? ['raw', 'toolport'] : ['toolport', 'raw'];
      const p50 = {};
      for (const name of order) {
        const times = await sample(targets[name], text, count);
        pooled[name].push(...times);
        p50[name] = median(times);
      }
      roundRatios.push(p50.toolport / p50.raw);
      roundDeltas.push(p50.toolport - p50.raw);
    }
    results[size] = {
      raw: { p50: median(pooled.raw), p90: percentile(pooled.raw, 90), p99: percentile(pooled.raw, 99), n: pooled.raw.length },
      toolport: { p50: median(pooled.toolport), p90: percentile(pooled.toolport, 90), p99: percentile(pooled.toolport, 99), n: pooled.toolport.length },
      ratioMedianOfRounds: median(roundRatios),
      ratioRange: [Math.min(...roundRatios), Math.max(...roundRatios)],
      deltaP50MedianOfRoundsUs: median(roundDeltas),
    };
  }
  const perSecond = { raw: [], toolport: [] };
  for (let round = 0; round < rounds; round += 1) {
    for (const name of round % 2 === 0 ? ['raw', 'toolport'] : ['toolport', 'raw']) perSecond[name].push(await throughput(targets[name], small, 16, 1_000));
  }
  await Promise.all(Object.values(targets).map((target) => target.close()));

  const fmt = (value) => value.toFixed(1).padStart(8);
  process.stdout.write(`python kind: toolport.call() of a trivial tool vs a raw JSON-lines round trip to python3 (${rounds} interleaved rounds)\n`);
  process.stdout.write('payload   target      p50 µs     p90 µs     p99 µs      n\n');
  for (const [size, result] of Object.entries(results)) {
    for (const name of ['raw', 'toolport']) {
      const row = result[name];
      process.stdout.write(`${size.padEnd(9)} ${name.padEnd(9)} ${fmt(row.p50)}   ${fmt(row.p90)}   ${fmt(row.p99)}   ${String(row.n).padStart(5)}\n`);
    }
    process.stdout.write(
      `${size.padEnd(9)} ratio (median of round p50 ratios) ${result.ratioMedianOfRounds.toFixed(2)}× ` +
        `(rounds ${result.ratioRange.map((value) => value.toFixed(2)).join('–')}), Δp50 +${result.deltaP50MedianOfRoundsUs.toFixed(0)} µs (goal ≤ +250 µs)\n`,
    );
  }
  const rawRate = median(perSecond.raw);
  const toolportRate = median(perSecond.toolport);
  process.stdout.write(`64 B, 16 in flight: raw ${rawRate.toFixed(0)} calls/s, toolport ${toolportRate.toFixed(0)} calls/s (${(toolportRate / rawRate).toFixed(2)}×, median of ${rounds} rounds)\n`);
  if (process.env.BENCH_JSON) process.stdout.write(`${JSON.stringify({ ...results, throughput: perSecond }, null, 2)}\n`);
}

await main();
