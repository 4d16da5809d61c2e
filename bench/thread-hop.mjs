// The floor of a call into a worker thread on this machine, with no Wasm and no toolport:
// a round trip main → worker → main with nothing done in the worker, three ways:
//   postMessage    both directions by MessagePort (what the wasm kind's runner does)
//   atomics        the worker blocks in Atomics.wait for work; the main thread waits for the
//                  answer with Atomics.waitAsync (no MessagePort at all)
//   mixed          the request by Atomics.notify, the answer by postMessage
// Between calls both threads idle for GAP_MS (default 1 ms), as a server's do between requests
// (GAP_MS=0 measures back-to-back calls, where a thread may not have gone to sleep yet).
// Rounds interleave the three; medians of per-round p50s. A design that runs a guest off the
// main thread pays about this per call on top of the guest's own work (with GAP_MS=1, when the
// threads sleep between calls). Run: `node bench/thread-hop.mjs [calls] [rounds]`.
import { Worker } from 'node:worker_threads';

const calls = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 5);
const gapMs = Number(process.env.GAP_MS ?? 1);
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

const echo = new Worker(`require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));`, { eval: true });

const shared = new Int32Array(new SharedArrayBuffer(8));
const blocking = new Worker(
  `const { workerData } = require('node:worker_threads');
   const flags = new Int32Array(workerData);
   for (;;) { Atomics.wait(flags, 0, 0); Atomics.store(flags, 0, 0); Atomics.store(flags, 1, 1); Atomics.notify(flags, 1); }`,
  { eval: true, workerData: shared.buffer },
);

const mixedFlags = new Int32Array(new SharedArrayBuffer(4));
const mixed = new Worker(
  `const { workerData, parentPort } = require('node:worker_threads');
   const flags = new Int32Array(workerData);
   for (;;) { Atomics.wait(flags, 0, 0); Atomics.store(flags, 0, 0); parentPort.postMessage(1); }`,
  { eval: true, workerData: mixedFlags.buffer },
);

const ways = {
  postMessage: () =>
    new Promise((resolve) => {
      echo.once('message', resolve);
      echo.postMessage({ text: 'x' });
    }),
  atomics: async () => {
    Atomics.store(shared, 1, 0);
    Atomics.store(shared, 0, 1);
    Atomics.notify(shared, 0);
    const waiting = Atomics.waitAsync(shared, 1, 0);
    if (waiting.async) await waiting.value;
  },
  mixed: () => {
    const answered = new Promise((resolve) => mixed.once('message', resolve));
    Atomics.store(mixedFlags, 0, 1);
    Atomics.notify(mixedFlags, 0);
    return answered;
  },
};

await new Promise((resolve) => setTimeout(resolve, 300));
const perRound = Object.fromEntries(Object.keys(ways).map((name) => [name, []]));
const names = Object.keys(ways);
for (let round = 0; round < rounds; round += 1) {
  for (const name of names.map((_, index) => names[(index + round) % names.length])) {
    const samples = [];
    for (let index = 0; index < calls; index += 1) {
      // Idle between calls (GAP_MS), as a server between requests: both threads then sleep.
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      const started = performance.now();
      await ways[name]();
      samples.push((performance.now() - started) * 1000);
    }
    perRound[name].push(median(samples));
  }
}
for (const name of names) {
  const p50s = perRound[name];
  process.stdout.write(`${name.padEnd(12)} round trip p50 ${median(p50s).toFixed(1)} µs (rounds ${Math.min(...p50s).toFixed(1)}–${Math.max(...p50s).toFixed(1)})\n`);
}
process.exit(0);
