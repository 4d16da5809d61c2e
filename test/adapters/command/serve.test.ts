// End to end through the built CLI and a real MCP client: command tools over every transport,
// client cancellation reaching the process tree, and no process left after `toolport serve`
// stops (SIGTERM over HTTP, stdin closed over stdio).
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTransports, binPath, connectClient, repoRoot, startHttpServer, type RunningServer } from '../../helpers/toolport-process.js';
import { makeScratch, pidsWithCwd, pidsWithMarker, sandboxForTests, sleep, waitFor, writeSkill } from './helpers.js';

/** Waits until the tree of the call with `marker` runs (its leader and two grandchildren). */
async function waitForTree(marker: string): Promise<void> {
  const pids = await waitFor(() => pidsWithMarker(`${marker}-`), (found) => found.length >= 3, 10_000);
  expect(pids.length).toBeGreaterThanOrEqual(3);
}

/** The processes of the call with `marker` still running after up to `timeoutMs`. */
function waitUntilGone(marker: string, timeoutMs: number): Promise<number[]> {
  return waitFor(() => pidsWithMarker(marker), (pids) => pids.length === 0, timeoutMs);
}

// A call that never ends: the leader and one grandchild ignore SIGTERM. Every process carries
// the call's marker in its command line (pids written inside the sandbox would be its own).
const treeScript = `#!/bin/sh
sh -c 'trap "" TERM; while :; do sleep 1; done' "$1-stubborn" &
sh -c 'while :; do sleep 1; done' "$1-plain" &
trap '' TERM
exec sh -c 'trap "" TERM; while :; do sleep 1; done' "$1-leader"
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
args = ["$marker"]
`,
    files: { 'scripts/echo.sh': '#!/bin/sh\nprintf "you said: %s" "$1"\n', 'scripts/tree.sh': treeScript },
  });
  const config = join(root, 'toolport.yaml');
  await writeFile(config, `plugins:\n  - path: ${skill}\n${sandboxForTests.sandbox ? '    sandbox: "off"\n' : ''}    readOnly: ["*"]\n`);
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

        const marker = `serve-${process.pid}-${era}-x`;
        const controller = new AbortController();
        const pending = client.callTool({ name: 'e2e__tree', arguments: { marker } }, { signal: controller.signal }).then(
          () => 'answered',
          () => 'aborted',
        );
        await waitForTree(marker);
        controller.abort();
        expect(await pending).toBe('aborted');
        // SIGTERM, a 2 s grace period, then SIGKILL for the processes that ignore it.
        expect(await waitUntilGone(marker, 5_000)).toEqual([]);
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
    const marker = `serve-${process.pid}-sigterm-x`;
    const pending = client.callTool({ name: 'e2e__tree', arguments: { marker } }).catch(() => undefined);
    await waitForTree(marker);
    const code = await server.stop();
    expect(code).toBe(0);
    // serve waits for its plugins to close, so the tree is gone when it has exited.
    expect(await waitUntilGone(marker, 0)).toEqual([]);
    expect(await pidsWithCwd(skill)).toEqual([]);
    await client.close().catch(() => {});
    await pending;
  });

  it('HTTP: SIGINT (Ctrl+C) stops it as SIGTERM does: exit 0, the call in flight answered, its process tree gone', async () => {
    const server = await startHttpServer(serveArgs);
    const client = await connectClient('http-2025', { url: server.url });
    const marker = `serve-${process.pid}-sigint-x`;
    const pending = client.callTool({ name: 'e2e__tree', arguments: { marker } }).then(
      (result) => JSON.stringify(result.content),
      (error: unknown) => `rejected: ${String(error)}`,
    );
    await waitForTree(marker);
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
    server.process.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(await pending).toContain('was stopped: the server is shutting down');
    expect(await waitUntilGone(marker, 0)).toEqual([]);
    await client.close().catch(() => {});
  });

  it('HTTP: a second SIGTERM exits at once, and the process tree still goes with it', async () => {
    const server = await startHttpServer(serveArgs);
    const client = await connectClient('http-2025', { url: server.url });
    const marker = `serve-${process.pid}-second-signal-x`;
    const pending = client.callTool({ name: 'e2e__tree', arguments: { marker } }).catch(() => undefined);
    await waitForTree(marker);
    const exited = new Promise<number | null>((resolve) => server.process.once('exit', (code) => resolve(code)));
    const started = Date.now();
    server.process.kill('SIGTERM');
    await sleep(100);
    server.process.kill('SIGTERM');
    expect(await exited).toBe(1);
    // Well before the 2 s grace period: the exit hook killed the groups.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await waitUntilGone(marker, 500)).toEqual([]);
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
    const marker = `serve-${process.pid}-stdin-x`;
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'e2e__tree', arguments: { marker } } });
    await waitForTree(marker);
    const closedAt = Date.now();
    server.stdin.end();
    const code = await exited;
    expect(code).toBe(0);
    // The 2 s grace period for the processes that ignore SIGTERM, and little more.
    expect(Date.now() - closedAt).toBeLessThan(4_500);
    expect(await waitUntilGone(marker, 0)).toEqual([]);
    expect(await pidsWithCwd(skill)).toEqual([]);
  });
});
