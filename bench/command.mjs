// Benchmark of the command kind: one call of a trivial command tool through toolport against
// spawning the same command directly with child_process, in the same run, rounds interleaved.
// Run after a build: `npm run build && node bench/command.mjs` (BENCH_ROUNDS, BENCH_CALLS, BENCH_WARMUP).
//
// Targets (each a trivial tool that runs /bin/true):
//   spawn             child_process.spawn('/bin/true'), pipes, await 'close'     (the baseline)
//   spawn-bwrap       the same program under exactly the bwrap options toolport uses for the
//                     skill (core/sandbox.ts), spawned directly: the cost of bubblewrap itself
//   spawn-unshare     /bin/true under util-linux `unshare -Umpfn --mount-proc` (new user, mount,
//                     PID and network namespaces, nothing bound): what the kernel's namespaces
//                     alone cost per spawn, the floor under any per-call sandbox (when
//                     `unshare` exists and user namespaces are allowed)
//   toolport          toolport.call() of the skill in its sandbox (the default): registry, ajv,
//                     policy, adapter, bwrap, the program
//   toolport-off      the same skill with `sandbox: off` (no bwrap): toolport's own work
//   mcp-stdio         the sandboxed tool through an MCP client over stdio (adds the SDK and a pipe)
// Targets take turns call by call; ratios and differences are medians of per-round p50s.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { parseConfig } from '../dist/config/load.js';
import { detectSandbox, toSandbox } from '../dist/core/sandbox.js';
import { createToolport } from '../dist/toolport.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 6);
const calls = Number(process.env.BENCH_CALLS ?? 80);
const warmup = Number(process.env.BENCH_WARMUP ?? 40);

const trueCommand = ['/bin/true', '/usr/bin/true'].find((path) => spawnSync(path).status === 0);
if (!trueCommand) throw new Error('no /bin/true');
const support = await detectSandbox();
if (!support.available) throw new Error(`the sandbox does not work here: ${support.reason}`);

function spawnOnce(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    child.stdout.resume();
    child.stderr.resume();
    child.once('error', reject);
    child.once('close', resolve);
  });
}

const root = await mkdtemp(join(tmpdir(), 'toolport-bench-command-'));
const skill = join(root, 'noop');
await mkdir(skill, { recursive: true });
await writeFile(join(skill, 'SKILL.md'), '---\nname: noop\n---\n');
await writeFile(join(skill, 'agent.toml'), `[tools.noop]\ncommand = ${JSON.stringify(trueCommand)}\n`);
// The argv toolport builds for this skill (no grants), for the bare bwrap target.
const sandbox = toSandbox(support, { cwd: skill, readOnly: [{ path: skill }], files: {}, network: false });
const minimalEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: '/tmp' };

const toolport = await createToolport(parseConfig({ plugins: [{ path: skill, readOnly: ['*'] }, { path: skill, id: 'off', sandbox: 'off', readOnly: ['*'] }] }));
const problems = toolport.diagnostics.filter((d) => d.level === 'error');
if (problems.length > 0) throw new Error(problems.map((d) => d.message).join('\n'));
const configFile = join(root, 'toolport.json');
await writeFile(configFile, JSON.stringify({ plugins: [{ path: skill, readOnly: ['*'] }] }));
const client = new Client({ name: 'bench', version: '1.0.0' });
await client.connect(
  new StdioClientTransport({
    command: process.execPath,
    args: [new URL('../bin/toolport.js', import.meta.url).pathname, 'serve', '--config', configFile, '--stdio', '--log-level', 'warn'],
    stderr: 'inherit',
  }),
);

const call = (name) => async () => {
  const outcome = await toolport.call(name, {});
  if (outcome.isError) throw new Error(`call failed: ${JSON.stringify(outcome.content)}`);
};
const unshareWorks = spawnSync('unshare', ['-Umpfn', '--mount-proc', trueCommand]).status === 0;
const targets = {
  spawn: () => spawnOnce(trueCommand, []),
  'spawn-bwrap': () => spawnOnce(sandbox.prefix[0], [...sandbox.prefix.slice(1), trueCommand], { cwd: skill, detached: true, env: minimalEnv }),
  ...(unshareWorks && { 'spawn-unshare': () => spawnOnce('unshare', ['-Umpfn', '--mount-proc', trueCommand]) }),
  toolport: call('noop__noop'),
  'toolport-off': call('off__noop'),
  'mcp-stdio': async () => {
    const result = await client.callTool({ name: 'noop__noop', arguments: {} });
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
  // The goal: a sandboxed call within +2 ms of a bare spawn without a sandbox.
  ['toolport', 'spawn'],
  // What bubblewrap itself costs per spawn, and what toolport adds on top of it.
  ['spawn-bwrap', 'spawn'],
  ...(unshareWorks ? [['spawn-unshare', 'spawn']] : []),
  ['toolport', 'spawn-bwrap'],
  ['toolport-off', 'spawn'],
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
