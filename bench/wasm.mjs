// Benchmark of the wasm kind: one call of a trivial exported function (the contract
// fixture's `echo`, a WAT component) through toolport's pipeline (registry, argument
// check, worker queue, value conversion, result check) against the same transpiled
// function called directly in a bare worker thread, and against the module echo
// (bench/fixtures/echo.mjs) through the same toolport, in the same run: what the wasm kind adds
// over the cheapest kind. Rounds interleave the targets in rotated order, as bench/README.md
// and perf-baselines.md describe.
// Run after a build: `npm run build && node bench/wasm.mjs [calls-per-round] [rounds]`.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { componentEmbed, componentNew, parse } from '@bytecodealliance/jco-transpile/wasm-tools';
import { parseConfig } from '../dist/config/load.js';
import { createToolport } from '../dist/toolport.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const callsPerRound = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 6);
const warmup = 500;
const text = 'x'.repeat(64);

async function buildContract(dir) {
  const fixture = join(root, 'test', 'fixtures', 'wasm', 'contract');
  const core = await parse(await readFile(join(fixture, 'contract.wat'), 'utf8'));
  const embedded = await componentEmbed({ binary: core, witSource: await readFile(join(fixture, 'contract.wit'), 'utf8'), world: 'contract' });
  const path = join(dir, 'contract.wasm');
  await writeFile(path, await componentNew(embedded));
  return { wasm: path, wit: join(fixture, 'contract.wit') };
}

/** The baseline: the transpiled component in a worker that answers postMessage with echo(). */
async function startDirectWorker(cacheEntry) {
  const meta = JSON.parse(await readFile(join(cacheEntry, 'meta.json'), 'utf8'));
  const modules = {};
  for (const name of meta.coreModules) modules[name] = await WebAssembly.compile(await readFile(join(cacheEntry, name)));
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.entry).then(async (mod) => {
      const instance = await mod.instantiate((name) => workerData.modules[name], {});
      parentPort.on('message', (message) => parentPort.postMessage({ id: message.id, value: instance.echo(message.text) }));
      parentPort.postMessage('ready');
    });`;
  const worker = new Worker(code, { eval: true, workerData: { entry: pathToFileURL(join(cacheEntry, meta.entry)).href, modules } });
  await new Promise((resolve) => worker.once('message', resolve));
  let nextId = 0;
  const pending = new Map();
  worker.on('message', (message) => {
    pending.get(message.id)?.(message.value);
    pending.delete(message.id);
  });
  return {
    call: (value) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        worker.postMessage({ id, text: value });
      }),
    close: () => worker.terminate(),
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function measure(call) {
  const samples = [];
  for (let index = 0; index < callsPerRound; index++) {
    const started = process.hrtime.bigint();
    const value = await call();
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
    if (value !== text) throw new Error(`wrong answer: ${String(value).slice(0, 80)}`);
  }
  return samples;
}

async function main() {
  const scratch = await mkdtemp(join(tmpdir(), 'toolport-bench-wasm-'));
  try {
    const fixture = await buildContract(scratch);
    const stateDir = join(scratch, 'state');
    const config = parseConfig({
      plugins: [
        { path: fixture.wasm, wit: fixture.wit, kind: 'wasm', readOnly: ['*'] },
        { path: join(root, 'bench', 'fixtures', 'echo.mjs') },
      ],
    });
    const toolport = await createToolport(config, { stateDir });
    if (toolport.diagnostics.length > 0) throw new Error(JSON.stringify(toolport.diagnostics));
    const cacheRoot = join(stateDir, 'cache', 'wasm');
    const [entry] = (await import('node:fs')).readdirSync(cacheRoot).filter((name) => !name.startsWith('.') && name !== 'by-file');
    const direct = await startDirectWorker(join(cacheRoot, entry));

    const targets = {
      direct: () => direct.call(text),
      toolport: async () => {
        const outcome = await toolport.call('contract__echo', { text });
        return outcome.content[0]?.text;
      },
      module: async () => {
        const outcome = await toolport.call('bench__echo', { text });
        return outcome.content[0]?.text;
      },
    };
    for (const call of Object.values(targets)) for (let index = 0; index < warmup; index++) await call();

    const pooled = { direct: [], toolport: [], module: [] };
    const perRound = [];
    const names = Object.keys(targets);
    for (let round = 0; round < rounds; round++) {
      const order = names.map((_, index) => names[(index + round) % names.length]);
      const p50 = {};
      for (const name of order) {
        const samples = await measure(targets[name]);
        pooled[name].push(...samples);
        p50[name] = median(samples);
      }
      perRound.push({
        round,
        directP50: p50.direct,
        toolportP50: p50.toolport,
        moduleP50: p50.module,
        deltaUs: p50.toolport - p50.direct,
        overModuleUs: p50.toolport - p50.module,
        ratio: p50.toolport / p50.direct,
      });
    }
    await direct.close();
    await toolport.close();

    const summary = {};
    for (const [name, samples] of Object.entries(pooled)) {
      const sorted = [...samples].sort((a, b) => a - b);
      summary[name] = { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), n: sorted.length };
    }
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      callsPerRound,
      rounds,
      payloadBytes: text.length,
      summary,
      deltaP50Us: median(perRound.map((round) => round.deltaUs)),
      ratioP50: median(perRound.map((round) => round.ratio)),
      deltaRangeUs: [Math.min(...perRound.map((round) => round.deltaUs)), Math.max(...perRound.map((round) => round.deltaUs))],
      overModuleP50Us: median(perRound.map((round) => round.overModuleUs)),
      overModuleRangeUs: [Math.min(...perRound.map((round) => round.overModuleUs)), Math.max(...perRound.map((round) => round.overModuleUs))],
      perRound,
      goal: 'toolport p50 ≤ direct p50 + 100 µs',
    };
    const fmt = (value) => value.toFixed(1).padStart(8);
    process.stdout.write('target      p50 µs   p90 µs   p99 µs\n');
    for (const [name, stats] of Object.entries(summary)) process.stdout.write(`${name.padEnd(10)}${fmt(stats.p50)} ${fmt(stats.p90)} ${fmt(stats.p99)}\n`);
    process.stdout.write(
      `toolport − direct, median of per-round p50 deltas: +${result.deltaP50Us.toFixed(1)} µs (rounds ${result.deltaRangeUs.map((v) => v.toFixed(1)).join(' … ')}), ratio ${result.ratioP50.toFixed(2)}×; goal ≤ +100 µs: ${result.deltaP50Us <= 100 ? 'met' : 'missed'}\n`,
    );
    process.stdout.write(
      `wasm − module echo, both through toolport, median of per-round p50 deltas: +${result.overModuleP50Us.toFixed(1)} µs (rounds ${result.overModuleRangeUs.map((v) => v.toFixed(1)).join(' … ')}); goal ≤ +50 µs: ${result.overModuleP50Us <= 50 ? 'met' : 'missed'}\n`,
    );
    const resultsDir = join(root, 'bench', 'results');
    await mkdir(resultsDir, { recursive: true });
    await writeFile(join(resultsDir, `wasm-${result.date.replace(/[:.]/g, '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
