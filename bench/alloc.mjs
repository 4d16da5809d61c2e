// Allocation and garbage collection per call: one echo call of the module fixture through
// toolport's pipeline, in process (createToolport + callTool), after a warm-up: the time per
// call, the GC pause time per call (PerformanceObserver `gc` entries), and with HEAP=1 the bytes
// allocated per call by function (V8's sampling heap profiler, objects collected by either GC
// included). GC time follows the bytes and how long objects live, so a change to the hot path can
// be judged by those as well as by the time.
// Run after a build: `npm run build && node bench/alloc.mjs [calls]`; BASE=<checkout> measures
// another build (e.g. the previous commit in a worktree) in the same run.
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const calls = Number(process.argv[2] ?? 50_000);
const fixture = fileURLToPath(new URL('./fixtures/echo.mjs', import.meta.url));
const builds = { toolport: fileURLToPath(new URL('..', import.meta.url)), ...(process.env.BASE && { base: process.env.BASE }) };
const text = 'x'.repeat(64);

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

for (const [name, root] of Object.entries(builds)) {
  const { createToolport, parseConfig } = await import(join(root, 'dist/index.js'));
  const stateDir = mkdtempSync(join(tmpdir(), 'toolport-alloc-'));
  const toolport = await createToolport(parseConfig({ plugins: [{ path: fixture }] }), { stateDir });
  for (let index = 0; index < 5_000; index++) await toolport.callTool('bench__echo', { text });
  // Let the warm-up's GC entries arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 50));
  gcMs = 0;
  const started = performance.now();
  for (let index = 0; index < calls; index++) await toolport.callTool('bench__echo', { text });
  const elapsed = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.stdout.write(`${name.padEnd(9)} ${((elapsed * 1000) / calls).toFixed(1)} µs per call, GC ${((gcMs * 1000) / calls).toFixed(1)} µs per call\n`);
  if (process.env.HEAP) {
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    const sampled = 20_000;
    for (let index = 0; index < sampled; index++) await toolport.callTool('bench__echo', { text });
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    const byFunction = new Map();
    let total = 0;
    const walk = (node) => {
      const frame = node.callFrame;
      const where = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').slice(-2).join('/')}:${frame.lineNumber + 1}`;
      if (node.selfSize) byFunction.set(where, (byFunction.get(where) ?? 0) + node.selfSize);
      total += node.selfSize;
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    process.stdout.write(`          ${Math.round(total / sampled)} bytes per call; the most by function:\n`);
    for (const [where, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 12)) process.stdout.write(`${String(Math.round(bytes / sampled)).padStart(14)}  ${where}\n`);
  }
  await toolport.close();
  rmSync(stateDir, { recursive: true, force: true });
}
