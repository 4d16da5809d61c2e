// Benchmark of the python kind: one call to a trivial ScaiWave tool through toolport's
// pipeline (registry, argument check, adapter, RPC, Python host in its bubblewrap sandbox)
// against a bare JSON-lines round trip to a persistent python3 child, measured in the same
// run with interleaved rounds (see shared/reference/perf-baselines.md); the same with
// `sandbox: off`, to show the sandbox costs at start, not per call; and the host's start
// (toolport created → first answer, no load cache) with and without the sandbox.
// Run: npm run build && node bench/python.mjs
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createToolport, parseConfig } from '../dist/index.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const perRound = Number(process.env.BENCH_CALLS ?? 400);
const warmup = 300;
// The interpreter itself, not a wrapper such as a pyenv shim (whose start would dwarf the rest).
const python = execFileSync(process.env.TOOLPORT_PYTHON ?? 'python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
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

const pluginPath = fileURLToPath(new URL('./python-echo-plugin.py', import.meta.url));

async function startToolport(sandbox, stateDir) {
  const toolport = await createToolport(parseConfig({ plugins: [{ path: pluginPath, kind: 'python', python, sandbox }] }), stateDir ? { stateDir } : {});
  const problems = toolport.diagnostics.filter((d) => d.level === 'error');
  if (problems.length > 0) throw new Error(problems.map((d) => d.message).join('\n'));
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

/** Toolport created (no load cache) → the first call answered: the host's start, median of `count`. */
async function startCost(sandbox, count) {
  const times = [];
  for (let index = 0; index < count; index += 1) {
    const stateDir = await mkdtemp(join(tmpdir(), 'toolport-bench-python-'));
    const started = performance.now();
    const target = await startToolport(sandbox, stateDir);
    await target.call(small);
    times.push(performance.now() - started);
    await target.close();
    await rm(stateDir, { recursive: true, force: true });
  }
  return times;
}

async function main() {
  const targets = { raw: await startRawChild(), toolport: await startToolport('on'), 'toolport-off': await startToolport('off') };
  const names = Object.keys(targets);
  const results = {};
  for (const [size, text] of [['64 B', small], ['16 KiB', large]]) {
    for (const target of Object.values(targets)) await sample(target, text, size === '64 B' ? warmup : warmup / 6);
    const pooled = Object.fromEntries(names.map((name) => [name, []]));
    const roundP50 = Object.fromEntries(names.map((name) => [name, []]));
    const count = size === '64 B' ? perRound : Math.ceil(perRound / 3);
    for (let round = 0; round < rounds; round += 1) {
      for (let index = 0; index < names.length; index += 1) {
        const name = names[(index + round) % names.length];
        const times = await sample(targets[name], text, count);
        pooled[name].push(...times);
        roundP50[name].push(median(times));
      }
    }
    const compare = (a, b) => {
      const ratios = roundP50[a].map((value, index) => value / roundP50[b][index]);
      const deltas = roundP50[a].map((value, index) => value - roundP50[b][index]);
      return { ratio: median(ratios), range: [Math.min(...ratios), Math.max(...ratios)], deltaUs: median(deltas), deltaRange: [Math.min(...deltas), Math.max(...deltas)] };
    };
    results[size] = {
      ...Object.fromEntries(
        names.map((name) => [name, { p50: median(pooled[name]), p90: percentile(pooled[name], 90), p99: percentile(pooled[name], 99), n: pooled[name].length }]),
      ),
      'toolport/raw': compare('toolport', 'raw'),
      'toolport-off/raw': compare('toolport-off', 'raw'),
      'toolport/toolport-off': compare('toolport', 'toolport-off'),
    };
  }
  const perSecond = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (let index = 0; index < names.length; index += 1) {
      const name = names[(index + round) % names.length];
      perSecond[name].push(await throughput(targets[name], small, 16, 1_000));
    }
  }
  await Promise.all(Object.values(targets).map((target) => target.close()));
  const starts = { on: [], off: [] };
  for (let round = 0; round < 5; round += 1) {
    for (const setting of round % 2 === 0 ? ['on', 'off'] : ['off', 'on']) starts[setting].push(...(await startCost(setting, 1)));
  }

  const fmt = (value) => value.toFixed(1).padStart(8);
  process.stdout.write(`python kind: toolport.call() of a trivial tool vs a raw JSON-lines round trip to python3 (${rounds} interleaved rounds)\n`);
  process.stdout.write('payload   target          p50 µs     p90 µs     p99 µs      n\n');
  for (const [size, result] of Object.entries(results)) {
    for (const name of names) {
      const row = result[name];
      process.stdout.write(`${size.padEnd(9)} ${name.padEnd(13)} ${fmt(row.p50)}   ${fmt(row.p90)}   ${fmt(row.p99)}   ${String(row.n).padStart(5)}\n`);
    }
    for (const pair of ['toolport/raw', 'toolport-off/raw', 'toolport/toolport-off']) {
      const { ratio, range, deltaUs, deltaRange } = result[pair];
      process.stdout.write(
        `${size.padEnd(9)} ${pair.padEnd(22)} ${ratio.toFixed(2)}× (rounds ${range.map((value) => value.toFixed(2)).join('–')}), ` +
          `Δp50 ${deltaUs >= 0 ? '+' : ''}${deltaUs.toFixed(0)} µs (rounds ${deltaRange.map((value) => value.toFixed(0)).join(' to ')})${pair === 'toolport/raw' ? ' (goal ≤ +250 µs)' : ''}\n`,
      );
    }
  }
  const rate = (name) => median(perSecond[name]);
  process.stdout.write(
    `64 B, 16 in flight: raw ${rate('raw').toFixed(0)} calls/s, toolport ${rate('toolport').toFixed(0)} (${(rate('toolport') / rate('raw')).toFixed(2)}×), ` +
      `toolport-off ${rate('toolport-off').toFixed(0)} (${(rate('toolport-off') / rate('raw')).toFixed(2)}×), median of ${rounds} rounds\n`,
  );
  process.stdout.write(
    `host start (toolport created → first answer, no load cache), median of 5: sandboxed ${median(starts.on).toFixed(0)} ms, ` +
      `sandbox: off ${median(starts.off).toFixed(0)} ms (difference ${(median(starts.on) - median(starts.off)).toFixed(0)} ms: bwrap; the interpreter probe runs once per process)\n`,
  );
  if (process.env.BENCH_JSON) process.stdout.write(`${JSON.stringify({ ...results, throughput: perSecond, startMs: starts }, null, 2)}\n`);
}

await main();
