// End to end through the built CLI and a real MCP client: command tools over every transport,
// client cancellation reaching the process tree, and no process left after `toolport serve`
// stops (SIGTERM over HTTP, stdin closed over stdio).
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTransports, binPath, connectClient, repoRoot, startHttpServer, type RunningServer } from '../../helpers/toolport-process.js';
import { isRunning, isolationAvailable, makeScratch, pidsWithCwd, sleep, writeSkill } from './helpers.js';

async function waitForPids(file: string, count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const pids = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);
    if (pids.length >= count) return pids;
    await sleep(20);
  }
  throw new Error(`${file} did not list ${count} pids`);
}

async function waitUntilGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const alive: number[] = [];
    for (const pid of pids) if (await isRunning(pid)) alive.push(pid);
    if (alive.length === 0 || Date.now() > until) return alive;
    await sleep(25);
  }
}

// A call that never ends: the leader and one grandchild ignore SIGTERM.
const treeScript = `#!/bin/sh
sh -c 'trap "" TERM; while :; do sleep 1; done' &
echo $! >> "$1"
sh -c 'while :; do sleep 1; done' &
echo $! >> "$1"
trap '' TERM
echo $$ >> "$1"
while :; do sleep 1; done
`;

let root: string;
let skill: string;
let serveArgs: string[];

beforeAll(async () => {
  root = await makeScratch('serve');
  skill = await writeSkill(root, 'e2e', {
    agentToml: `
[tools.echo]
command = "scripts/echo.sh"
description = "Echo the text"
args = ["$text"]

[tools.tree]
command = "scripts/tree.sh"
args = ["$pidfile"]
`,
    files: { 'scripts/echo.sh': '#!/bin/sh\nprintf "you said: %s" "$1"\n', 'scripts/tree.sh': treeScript },
  });
  // Where no network sandbox works, the skill runs only with a network grant.
  const config = join(root, 'toolport.yaml');
  await writeFile(config, `plugins:\n  - path: ${skill}\n    grants: { network: ${!isolationAvailable} }\n    readOnly: ["*"]\n`);
  serveArgs = ['--config', config];
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('command skills through a real MCP client', () => {
  let http: RunningServer;

  beforeAll(async () => {
    http = await startHttpServer(serveArgs);
  });

  afterAll(async () => {
    await http?.stop();
  });

  for (const era of allTransports) {
    it(`${era}: lists and calls a command tool; cancelling a call stops its process tree`, async () => {
      const client = await connectClient(era, era === 'stdio' ? { serveArgs } : { url: http.url });
      try {
        const { tools } = await client.listTools();
        const echo = tools.find((tool) => tool.name === 'e2e__echo');
        expect(echo?.inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } }, required: ['text'] });
        const result = await client.callTool({ name: 'e2e__echo', arguments: { text: `it's $(not) a shell; ${era}` } });
        expect(result.content).toEqual([{ type: 'text', text: `you said: it's $(not) a shell; ${era}` }]);

        const pidfile = join(root, `${era}.pids`);
        const controller = new AbortController();
        const pending = client.callTool({ name: 'e2e__tree', arguments: { pidfile } }, { signal: controller.signal }).then(
          () => 'answered',
          () => 'aborted',
        );
        const pids = await waitForPids(pidfile, 3);
        controller.abort();
        expect(await pending).toBe('aborted');
        // SIGTERM, a 2 s grace period, then SIGKILL for the processes that ignore it.
        expect(await waitUntilGone(pids, 5_000)).toEqual([]);
      } finally {
        await client.close();
      }
    });
  }
});

describe('no process left after toolport serve stops', () => {
  it('HTTP: SIGTERM with a call in flight', async () => {
    const server = await startHttpServer(serveArgs);
    const client = await connectClient('http-2025', { url: server.url });
    const pidfile = join(root, 'sigterm.pids');
    const pending = client.callTool({ name: 'e2e__tree', arguments: { pidfile } }).catch(() => undefined);
    const pids = await waitForPids(pidfile, 3);
    const code = await server.stop();
    expect(code).toBe(0);
    // serve waits for its plugins to close, so the tree is gone when it has exited.
    expect(await waitUntilGone(pids, 0)).toEqual([]);
    expect(await pidsWithCwd(skill)).toEqual([]);
    await client.close().catch(() => {});
    await pending;
  });

  it('HTTP: a second SIGTERM exits at once, and the process tree still goes with it', async () => {
    const server = await startHttpServer(serveArgs);
    const client = await connectClient('http-2025', { url: server.url });
    const pidfile = join(root, 'second-signal.pids');
    const pending = client.callTool({ name: 'e2e__tree', arguments: { pidfile } }).catch(() => undefined);
    const pids = await waitForPids(pidfile, 3);
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
    const started = Date.now();
    server.process.kill('SIGTERM');
    await sleep(100);
    server.process.kill('SIGTERM');
    expect(await exited).toBe(1);
    // Well before the 2 s grace period: the exit hook killed the groups.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await waitUntilGone(pids, 500)).toEqual([]);
    await client.close().catch(() => {});
    await pending;
  });

  it('stdio: the client closes stdin with a call in flight', async () => {
    const server = spawn(process.execPath, [binPath, 'serve', ...serveArgs, '--stdio', '--log-level', 'warn'], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    const send = (message: unknown): void => {
      server.stdin.write(`${JSON.stringify(message)}\n`);
    };
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const pidfile = join(root, 'stdin.pids');
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'e2e__tree', arguments: { pidfile } } });
    const pids = await waitForPids(pidfile, 3);
    const closedAt = Date.now();
    server.stdin.end();
    const code = await exited;
    expect(code).toBe(0);
    // The 2 s grace period for the processes that ignore SIGTERM, and little more.
    expect(Date.now() - closedAt).toBeLessThan(4_500);
    expect(await waitUntilGone(pids, 0)).toEqual([]);
    expect(await pidsWithCwd(skill)).toEqual([]);
  });
});
