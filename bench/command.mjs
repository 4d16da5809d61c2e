// Benchmark of the command kind: one call of a trivial command tool through toolport against
// spawning the same command directly with child_process, in the same run, rounds interleaved.
// Run after a build: `npm run build && node bench/command.mjs [--rounds N] [--calls N]`.
//
// Targets (each a trivial tool that runs /bin/true):
//   spawn            child_process.spawn('/bin/true'), pipes, await 'close'     (the baseline)
//   toolport         toolport.call() of a skill with network: registry, ajv, adapter, spawn
//   spawn-unshare    child_process.spawn('unshare', ['--net', '--', '/bin/true'])
//   toolport-netns   toolport.call() of a skill without "internet": runs in a network namespace
//   mcp-stdio        the same tool through an MCP client over stdio (adds the SDK and a pipe)
// Ratios are medians of per-round p50 ratios (see ../../shared/reference/perf-baselines.md).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { parseConfig } from '../dist/config/load.js';
import { createToolport } from '../dist/toolport.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '6' }, calls: { type: 'string', default: '80' }, warmup: { type: 'string', default: '40' } },
});
const rounds = Number(values.rounds);
const calls = Number(values.calls);
const warmup = Number(values.warmup);

const trueCommand = ['/bin/true', '/usr/bin/true'].find((path) => spawnSync(path).status === 0);
if (!trueCommand) throw new Error('no /bin/true');
const canUnshare = spawnSync('unshare', ['--net', '--', trueCommand]).status === 0;

function spawnOnce(file, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', resolve);
  });
}

async function writeSkill(root, name, internet) {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const permissions = internet ? '\nmetadata:\n  evoclaw:\n    permissions: [internet]' : '';
  await writeFile(join(dir, 'SKILL.md'), `---\nname: ${name}${permissions}\n---\n`);
  await writeFile(join(dir, 'agent.toml'), `[tools.noop]\ncommand = ${JSON.stringify(trueCommand)}\n`);
  return dir;
}

const root = await mkdtemp(join(tmpdir(), 'toolport-bench-command-'));
const online = await writeSkill(root, 'online', true);
const offline = await writeSkill(root, 'offline', false);
const toolport = await createToolport(parseConfig({ plugins: [{ path: online }, ...(canUnshare ? [{ path: offline }] : [])] }));
const client = new Client({ name: 'bench', version: '1.0.0' });
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: [new URL('../bin/toolport.js', import.meta.url).pathname, 'serve', online, '--stdio', '--log-level', 'warn'],
    stderr: 'inherit',
  }),
);

const targets = {
  spawn: () => spawnOnce(trueCommand, []),
  toolport: async () => {
    const outcome = await toolport.call('online__noop', {});
    if (outcome.isError) throw new Error('call failed');
  },
  ...(canUnshare && {
    'spawn-unshare': () => spawnOnce('unshare', ['--net', '--', trueCommand]),
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
  // Rotate the order so no target always runs first (or right after the same neighbour).
  const order = names.map((_, index) => names[(index + round) % names.length]);
  for (const name of order) {
    const times = [];
    for (let i = 0; i < calls; i += 1) {
      const started = performance.now();
      await targets[name]();
      times.push(performance.now() - started);
    }
    samples[name].push(...times);
    roundMedians[name].push(median(times));
  }
}

const ratio = (a, b) => {
  const perRound = roundMedians[a].map((value, index) => value / roundMedians[b][index]);
  return { median: median(perRound), min: Math.min(...perRound), max: Math.max(...perRound) };
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
  ...(canUnshare ? [['toolport-netns', 'spawn-unshare'], ['spawn-unshare', 'spawn'], ['toolport-netns', 'spawn']] : []),
  ['mcp-stdio', 'spawn'],
];
process.stdout.write('\n| comparison | ratio of p50 (median of rounds) | range over rounds |\n|---|--:|--:|\n');
for (const [a, b] of comparisons) {
  const { median: value, min, max } = ratio(a, b);
  process.stdout.write(`| ${a} / ${b} | ${value.toFixed(3)}x | ${min.toFixed(3)}-${max.toFixed(3)} |\n`);
}

await client.close();
await toolport.close();
await rm(root, { recursive: true, force: true });
