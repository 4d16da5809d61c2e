// tools/list of a large catalogue (BENCH_TOOLS, default 1,000 tools with a one-line
// description and three parameters each): the whole list through an SDK v2 client over
// stdio, following nextCursor, from toolport (a module plugin with those tools) and from a
// bare SDK v2 server with the same definitions, interleaved in one run. Reports p50 per
// whole listing, pages and bytes on the wire (JSON of the tools as received).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/toolport.js', import.meta.url));
const bare = fileURLToPath(new URL('./servers/bare-echo.mjs', import.meta.url));
const plugin = fileURLToPath(new URL('./fixtures/many-tools.mjs', import.meta.url));
const toolCount = Number(process.env.BENCH_TOOLS ?? 1000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const perRound = Number(process.env.BENCH_CALLS ?? 40);

// Pins and caches of their own: those of a run with another BENCH_TOOLS would hold the new tools back.
const stateDir = mkdtempSync(join(tmpdir(), 'toolport-bench-list-'));

const targets = {
  bare: [bare, '--tools', String(toolCount)],
  toolport: [bin, 'serve', plugin, '--stdio', '--log-level', 'silent'],
};

/** CPU time (user + system) a process has used, in ms (Linux: /proc, 10 ms ticks). */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function connect(args) {
  const client = new Client({ name: 'bench', version: '1.0.0' });
  const transport = new StdioClientTransport({ command: process.execPath, args, cwd: root, stderr: 'inherit', env: { ...process.env, BENCH_TOOLS: String(toolCount), TOOLPORT_STATE_DIR: stateDir, TOOLPORT_CACHE_DIR: join(stateDir, 'cache') } });
  await client.connect(transport);
  client.pid = transport.pid;
  return client;
}

async function listAll(client) {
  const tools = [];
  let pages = 0;
  let cursor;
  do {
    // Page by page by hand: the client's listTools() aggregates pages and may answer from its cache.
    const page = await client.request({ method: 'tools/list', params: cursor === undefined ? {} : { cursor } });
    tools.push(...page.tools);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== undefined);
  return { tools, pages };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const clients = Object.fromEntries(await Promise.all(Object.entries(targets).map(async ([name, args]) => [name, await connect(args)])));
const shape = {};
for (const [name, client] of Object.entries(clients)) {
  const { tools, pages } = await listAll(client);
  if (tools.length !== toolCount) throw new Error(`${name} listed ${tools.length} tools, expected ${toolCount}`);
  shape[name] = { pages, bytes: Buffer.byteLength(JSON.stringify(tools)) };
  for (let index = 0; index < 10; index += 1) await listAll(client);
}
const samples = { bare: [], toolport: [] };
const serverCpu = { bare: 0, toolport: 0 };
const ratios = [];
for (let round = 0; round < rounds; round += 1) {
  const p50 = {};
  for (const name of round % 2 ? ['toolport', 'bare'] : ['bare', 'toolport']) {
    const times = [];
    const cpuBefore = cpuMs(clients[name].pid);
    for (let index = 0; index < perRound; index += 1) {
      const started = performance.now();
      await listAll(clients[name]);
      times.push(performance.now() - started);
    }
    serverCpu[name] += cpuMs(clients[name].pid) - cpuBefore;
    samples[name].push(...times);
    p50[name] = median(times);
  }
  ratios.push(p50.toolport / p50.bare);
}
for (const client of Object.values(clients)) await client.close();
rmSync(stateDir, { recursive: true, force: true });

for (const name of Object.keys(targets)) {
  const cpuPerList = serverCpu[name] / samples[name].length;
  process.stdout.write(
    `${name.padEnd(9)} p50 ${median(samples[name]).toFixed(2)} ms  server CPU ${cpuPerList.toFixed(2)} ms per listing  pages ${shape[name].pages}  bytes ${shape[name].bytes}\n`,
  );
}
process.stdout.write(
  `toolport / bare: p50 ${median(ratios).toFixed(2)}x (rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}), bytes ${(shape.toolport.bytes / shape.bare.bytes).toFixed(2)}x\n`,
);
