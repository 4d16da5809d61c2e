// Benchmark of the command kind: one call of a trivial command tool through toolport against
// spawning the same command directly with child_process, in the same run, rounds interleaved.
// Run after a build: `npm run build && node bench/command.mjs` (BENCH_ROUNDS, BENCH_CALLS, BENCH_WARMUP).
//
// Targets (each a trivial tool that runs /bin/true):
//   spawn            child_process.spawn('/bin/true'), pipes, await 'close'     (the baseline)
//   spawn-as-toolport the same with toolport's options (detached: a new session and process
//                    group, so a stop reaches the whole tree; a minimal environment)
//   toolport         toolport.call() of a skill with network: registry, ajv, adapter, spawn
//   spawn-unshare    child_process.spawn('unshare', ['--net', '--', '/bin/true'])
//   spawn-unshare-as-toolport the same with toolport's options
//   toolport-netns   toolport.call() of a skill without "internet": runs in a network namespace
//   mcp-stdio        the same tool through an MCP client over stdio (adds the SDK and a pipe)
// Targets take turns call by call; ratios are medians of per-round p50 ratios.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { parseConfig } from '../dist/config/load.js';
import { createToolport } from '../dist/toolport.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const calls = Number(process.env.BENCH_CALLS ?? 80);
const warmup = Number(process.env.BENCH_WARMUP ?? 40);

const trueCommand = ['/bin/true', '/usr/bin/true'].find((path) => spawnSync(path).status === 0);
if (!trueCommand) throw new Error('no /bin/true');
const canUnshare = spawnSync('unshare', ['--net', '--', trueCommand]).status === 0;

function spawnOnce(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', resolve);
  });
}

async function writeSkill(root, name) {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'SKILL.md'), `---\nname: ${name}\n---\n`);
  await writeFile(join(dir, 'agent.toml'), `[tools.noop]\ncommand = ${JSON.stringify(trueCommand)}\n`);
  return dir;
}

const root = await mkdtemp(join(tmpdir(), 'toolport-bench-command-'));
// "online" is granted network (no namespace); "offline" is not (runs under unshare --net).
const online = await writeSkill(root, 'online');
const offline = await writeSkill(root, 'offline');
const onlineBlock = { path: online, grants: { network: true } };
const toolport = await createToolport(parseConfig({ plugins: [onlineBlock, ...(canUnshare ? [{ path: offline }] : [])] }));
const configFile = join(root, 'toolport.json');
await writeFile(configFile, JSON.stringify({ plugins: [onlineBlock] }));
const client = new Client({ name: 'bench', version: '1.0.0' });
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: [new URL('../bin/toolport.js', import.meta.url).pathname, 'serve', '--config', configFile, '--stdio', '--log-level', 'warn'],
    stderr: 'inherit',
  }),
);

const targets = {
  spawn: () => spawnOnce(trueCommand, []),
  // The options toolport spawns with: own session and process group, a minimal environment.
  'spawn-as-toolport': () => spawnOnce(trueCommand, [], { detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }),
  toolport: async () => {
    const outcome = await toolport.call('online__noop', {});
    if (outcome.isError) throw new Error('call failed');
  },
  ...(canUnshare && {
    'spawn-unshare': () => spawnOnce('unshare', ['--net', '--', trueCommand]),
    'spawn-unshare-as-toolport': () =>
      spawnOnce('unshare', ['--net', '--', trueCommand], { detached: true, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }),
    'toolport-netns': async () => {
      const outcome = await toolport.call('offline__noop', {});
      if (outcome.isError) throw new Error('call failed');
    },
  }),
  'mcp-stdio': async () => {
    const result = await client.callTool({ name: 'online__noop', arguments: {} });
    if (result.isError) throw new Error('call failed');
  },
};
const names = Object.keys(targets);

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const median = (list) => percentile([...list].sort((a, b) => a - b), 50);

for (const name of names) for (let i = 0; i < warmup; i += 1) await targets[name]();

const samples = Object.fromEntries(names.map((name) => [name, []]));
const roundMedians = Object.fromEntries(names.map((name) => [name, []]));
for (let round = 0; round < rounds; round += 1) {
  // Every target runs once per step, in an order that rotates, so a burst of load on the
  // shared machine hits all targets alike instead of whichever block was running.
  const times = Object.fromEntries(names.map((name) => [name, []]));
  for (let step = 0; step < calls; step += 1) {
    for (let index = 0; index < names.length; index += 1) {
      const name = names[(index + step + round) % names.length];
      const started = performance.now();
      await targets[name]();
      times[name].push(performance.now() - started);
    }
  }
  for (const name of names) {
    samples[name].push(...times[name]);
    roundMedians[name].push(median(times[name]));
  }
}

const ratio = (a, b) => {
  const perRound = roundMedians[a].map((value, index) => value / roundMedians[b][index]);
  const deltas = roundMedians[a].map((value, index) => value - roundMedians[b][index]);
  return { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound), deltaMs: median(deltas) };
};

const rows = names.map((name) => {
  const sorted = [...samples[name]].sort((a, b) => a - b);
  return { target: name, 'p50 ms': percentile(sorted, 50).toFixed(2), 'p90 ms': percentile(sorted, 90).toFixed(2), n: sorted.length };
});
process.stdout.write(`command kind: ${rounds} rounds x ${calls} calls per target, Node ${process.version}\n\n`);
process.stdout.write('| target | p50 ms | p90 ms | n |\n|---|--:|--:|--:|\n');
for (const row of rows) process.stdout.write(`| ${row.target} | ${row['p50 ms']} | ${row['p90 ms']} | ${row.n} |\n`);
const comparisons = [
  ['toolport', 'spawn'],
  ['toolport', 'spawn-as-toolport'],
  ['spawn-as-toolport', 'spawn'],
  ...(canUnshare
    ? [['toolport-netns', 'spawn-unshare'], ['toolport-netns', 'spawn-unshare-as-toolport'], ['spawn-unshare', 'spawn'], ['toolport-netns', 'spawn']]
    : []),
  ['mcp-stdio', 'spawn'],
];
process.stdout.write('\n| comparison | ratio of p50 (median of rounds) | range over rounds | Δ p50 ms |\n|---|--:|--:|--:|\n');
const ratios = {};
for (const [a, b] of comparisons) {
  const { median: value, min, max, deltaMs } = ratio(a, b);
  ratios[`${a}/${b}`] = { median: value, min, max, deltaMs, perRound: roundMedians[a].map((v, i) => v / roundMedians[b][i]) };
  process.stdout.write(`| ${a} / ${b} | ${value.toFixed(3)}x | ${min.toFixed(3)}-${max.toFixed(3)} | ${deltaMs >= 0 ? '+' : ''}${deltaMs.toFixed(2)} |\n`);
}
process.stdout.write(`\nload average after the run: ${loadavg().map((value) => value.toFixed(2)).join(' ')}\n`);
const resultsDir = new URL('results/', import.meta.url);
await mkdir(resultsDir, { recursive: true });
await writeFile(
  new URL(`command-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, resultsDir),
  JSON.stringify({ node: process.version, rounds, calls, warmup, loadavg: loadavg(), samplesMs: samples, roundMediansMs: roundMedians, ratios }, null, 1),
);

await client.close();
await toolport.close();
await rm(root, { recursive: true, force: true });
