// Time, garbage collection and allocation per echo call, in one process (no pipe, no socket):
//   pipeline   toolport's call pipeline alone (createToolport + callTool of the module fixture)
//   mcp        the same through toolport's MCP server, an SDK v2 client over the SDK's in-memory transport
//   bare       a bare SDK v2 server (low-level Server, one echo tool) behind the same client and transport
// Reports µs per call and the GC pause per call (PerformanceObserver `gc`); with HEAP=1 also the
// bytes allocated per call and the functions that allocate most (V8's sampling heap profiler,
// objects either GC collected included). mcp − bare is what toolport's server adds per call with
// the client's cost the same on both sides; bytes and GC move much less with the machine's load
// than times do. Run after a build: `npm run build && node bench/alloc.mjs [calls]`;
// BASE=<checkout> adds another build's pipeline and server (e.g. the previous commit in a worktree);
// ROUNDS (default 3) rounds in a rotating order, medians reported; IN_FLIGHT=16 runs 16 calls
// at once (garbage that outlives its call shows there: see bench/README.md). All targets
// share one heap, so each one's garbage is collected in the others' rounds too: between
// builds compare the bytes, which do not depend on that, more than the times.
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import { Server } from '@modelcontextprotocol/server';

const calls = Number(process.argv[2] ?? 30_000);
const fixture = fileURLToPath(new URL('./fixtures/echo.mjs', import.meta.url));
const builds = { toolport: fileURLToPath(new URL('..', import.meta.url)), ...(process.env.BASE && { base: process.env.BASE }) };
const text = 'x'.repeat(64);

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

async function connected(server) {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'bench', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

async function toolportTargets(name, root) {
  const dist = pathToFileURL(join(root, 'dist/')).href;
  const [{ createToolport, parseConfig }, { createServerHub }] = await Promise.all([import(`${dist}index.js`), import(`${dist}server/mcp-server.js`)]);
  const stateDir = mkdtempSync(join(tmpdir(), 'toolport-alloc-'));
  const toolport = await createToolport(parseConfig({ plugins: [{ path: fixture }] }), { stateDir });
  const hub = createServerHub(toolport, { name: 'toolport', version: 'bench' });
  const client = await connected(hub.createConnectionServer({ transport: 'stdio', principal: 'local' }));
  return [
    { name: `${name} pipeline`, call: () => toolport.callTool('bench__echo', { text }) },
    {
      name: `${name} mcp`,
      call: () => client.callTool({ name: 'bench__echo', arguments: { text } }),
      async close() {
        await client.close();
        await hub.close();
        await toolport.close();
        rmSync(stateDir, { recursive: true, force: true });
      },
    },
  ];
}

async function bareTarget() {
  const server = new Server({ name: 'bare-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', () => ({ tools: [{ name: 'echo', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } }] }));
  server.setRequestHandler('tools/call', (request) => ({ content: [{ type: 'text', text: String(request.params.arguments?.text ?? '') }] }));
  const client = await connected(server);
  return { name: 'bare mcp', call: () => client.callTool({ name: 'echo', arguments: { text } }), close: () => client.close() };
}

/** Calls at once (IN_FLIGHT, default 1): with several, a call's garbage lives while the others run. */
const inFlight = Number(process.env.IN_FLIGHT ?? 1);

/** One round of `count` calls: µs and GC µs per call. */
async function round(target, count) {
  await settle();
  gcMs = 0;
  const started = performance.now();
  const each = Math.ceil(count / inFlight);
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let index = 0; index < each; index++) await target.call();
    }),
  );
  count = each * inFlight;
  const elapsed = performance.now() - started;
  await settle();
  return { us: (elapsed * 1000) / count, gc: (gcMs * 1000) / count };
}

async function allocations(target) {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const sampled = 10_000;
  for (let index = 0; index < sampled; index++) await target.call();
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
  process.stdout.write(`${''.padEnd(18)} ${Math.round(total / sampled)} bytes per call; the most by function:\n`);
  for (const [where, bytes] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 10)) process.stdout.write(`${String(Math.round(bytes / sampled)).padStart(26)}  ${where}\n`);
}

const targets = [await bareTarget()];
for (const [name, root] of Object.entries(builds)) targets.push(...(await toolportTargets(name, root)));
for (const target of targets) for (let index = 0; index < 5_000; index++) await target.call();
// Rounds in a rotating order, so that no target always runs first or after the same one.
const rounds = Number(process.env.ROUNDS ?? 3);
const results = new Map(targets.map((target) => [target, []]));
for (let index = 0; index < rounds; index++) {
  for (const target of targets.map((_, at) => targets[(at + index) % targets.length])) results.get(target).push(await round(target, Math.ceil(calls / rounds)));
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const target of targets) {
  const measured = results.get(target);
  process.stdout.write(
    `${target.name.padEnd(18)} ${median(measured.map((r) => r.us)).toFixed(1).padStart(6)} µs per call, GC ${median(measured.map((r) => r.gc)).toFixed(1).padStart(5)} µs per call (medians of ${rounds} rounds)\n`,
  );
  if (process.env.HEAP) await allocations(target);
}
for (const target of targets) await target.close?.();
