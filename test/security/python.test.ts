// The Python host tried as an attacker would, with plain Python (test/fixtures/security/
// attacker.py): the four pure-Python bypasses of the audit-hook guard that worked before the
// kernel sandbox (/proc/self/root, the parent's environ through it, _posixsubprocess.fork_exec,
// switching the guard off through gc), the plain refusals, and no host left behind when
// toolport is killed with SIGKILL.
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { callTool } from '../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { bwrapWorks, killHard, needsBwrap, pidsInFolder, runCli, secrets, serveAndCall, startCountingServer, waitFor, type CountingServer } from './helpers.js';

const fixture = fileURLToPath(new URL('../fixtures/security/attacker.py', import.meta.url));

function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

const root = useTempDir('toolport-attack-python-', 'all');
let plugin: string;
let secretFile: string;
let server: CountingServer;
const opened: Toolport[] = [];

async function load(extra: Record<string, unknown> = {}): Promise<Toolport> {
  const toolport = await createToolport(parseConfig({ plugins: [{ path: plugin, ...extra }] }));
  opened.push(toolport);
  expect(toolport.diagnostics.filter((d) => d.level === 'error')).toEqual([]);
  return toolport;
}

beforeAll(async () => {
  // The plugin in a folder of its own, so its processes can be found by their working folder.
  await mkdir(join(root.path, 'plugin'));
  plugin = join(root.path, 'plugin', 'attacker.py');
  await copyFile(fixture, plugin);
  await mkdir(join(root.path, 'outside'));
  secretFile = join(root.path, 'outside', 'secret.txt');
  await writeFile(secretFile, 'outside secret');
  server = await startCountingServer('hello from the host');
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((toolport) => toolport.close()));
});

afterAll(async () => {
  await server?.close();
});

describe(`python host: the guard's pure-Python bypasses fail${needsBwrap}`, () => {
  it.skipIf(!bwrapWorks)('reading an ungranted file through /proc/self/root', async () => {
    const toolport = await load();
    const result = await callTool(toolport, 'evil_attacker__proc_root_read', { path: secretFile });
    expect(result.isError).toBe(true);
    expect(textOf(result)).not.toContain('outside secret');
  });

  it.skipIf(!bwrapWorks)("reading toolport's environment through /proc/self/root/proc/<ppid>/environ", async () => {
    const config = join(root.path, 'environ.json');
    await writeFile(config, JSON.stringify({ plugins: [{ path: plugin }] }));
    const { stdout, stderr } = await runCli(['call', 'evil_attacker__parent_environ', '{}', '--config', config]);
    const answer = JSON.parse(stdout) as Record<string, unknown>;
    expect(answer, stderr).toHaveProperty('ppid');
    for (const value of Object.values(secrets)) expect(stdout).not.toContain(value);
    expect(stdout).not.toMatch(/TOOLPORT_ADMIN_TOKEN|VITEST/);
  });

  it.skipIf(!bwrapWorks)('starting a process with _posixsubprocess.fork_exec, whose child then reaches the network', async () => {
    const toolport = await load();
    const before = server.connections();
    const result = await callTool(toolport, 'evil_attacker__fork_exec', { port: server.port });
    expect(result.isError).toBe(true);
    expect(textOf(result)).not.toContain('hello from the host');
    expect(server.connections()).toBe(before);
  });

  it.skipIf(!bwrapWorks)('switching the guard off through gc turns nothing on', async () => {
    const toolport = await load();
    const before = server.connections();
    const result = await callTool(toolport, 'evil_attacker__disable_guard', { path: secretFile, port: server.port });
    const answer = JSON.parse(textOf(result)) as Record<string, { ok?: string; error?: string }>;
    expect(answer.read, 'read').toHaveProperty('error');
    expect(answer.connect, 'connect').toHaveProperty('error');
    expect(answer.run, 'run').toHaveProperty('error');
    expect(textOf(result)).not.toMatch(/outside secret|hello from the host|child ran/);
    expect(server.connections()).toBe(before);
  });
});

describe('python host: with sandbox: off', () => {
  it.skipIf(process.platform !== 'linux')('the kernel still refuses program starts, also with the guard switched off', async () => {
    const toolport = await load({ sandbox: 'off' });
    const result = await callTool(toolport, 'evil_attacker__disable_guard', { path: secretFile, port: server.port });
    const answer = JSON.parse(textOf(result)) as Record<string, { ok?: string; error?: string }>;
    // Unconfined, it reads and connects (that is what sandbox: off means); it cannot run a program.
    expect(answer.run?.error).toMatch(/^PermissionError: \[Errno 1\] Operation not permitted/);
    const forked = await callTool(toolport, 'evil_attacker__fork_exec', { port: server.port });
    expect(forked.isError).toBe(true);
    expect(textOf(forked)).toMatch(/exec failed/);
  });
});

describe(`python host: ungranted things are refused${needsBwrap}`, () => {
  it.skipIf(!bwrapWorks)('a file, an environment value, a network connection and a process start', async () => {
    process.env.TOOLPORT_ATTACK_SECRET = 'attack-secret-value';
    try {
      const toolport = await load();
      const before = server.connections();
      const read = await callTool(toolport, 'evil_attacker__read', { path: secretFile });
      expect(read.isError).toBe(true);
      expect(textOf(read)).toMatch(/^PermissionError: toolport: reading .*secret\.txt is not granted/);
      const env = await callTool(toolport, 'evil_attacker__env', { name: 'TOOLPORT_ATTACK_SECRET' });
      expect(JSON.parse(textOf(env))).toEqual({ environ: null, getenv: null });
      const connect = await callTool(toolport, 'evil_attacker__connect', { port: server.port });
      expect(connect.isError).toBe(true);
      expect(textOf(connect)).toMatch(/^PermissionError: toolport: network access is not granted/);
      const run = await callTool(toolport, 'evil_attacker__run');
      expect(run.isError).toBe(true);
      expect(textOf(run)).toMatch(/^PermissionError: toolport: starting a process is not granted/);
      expect(server.connections()).toBe(before);
    } finally {
      delete process.env.TOOLPORT_ATTACK_SECRET;
    }
  });
});

/** Starts `toolport serve --stdio`, calls the blocking tool, and SIGKILLs toolport while it blocks. */
async function killDuringBlockingCall(config: string): Promise<void> {
  const server = serveAndCall(config, 'evil_attacker__block', { seconds: 60 });
  const log = await waitFor(() => Promise.resolve(server.stderr()), (text) => text.includes('blocking the event loop now'), 20_000);
  expect(log).toContain('blocking the event loop now');
  expect((await pidsInFolder(join(root.path, 'plugin'))).length).toBeGreaterThan(0);
  await killHard(server);
}

describe('python host: killing toolport with SIGKILL leaves no Python process behind', () => {
  it.skipIf(!bwrapWorks)(`in the sandbox, even while a tool blocks the host's event loop${needsBwrap}`, async () => {
    const config = join(root.path, 'kill.json');
    await writeFile(config, JSON.stringify({ plugins: [{ path: plugin }] }));
    await killDuringBlockingCall(config);
    expect(await waitFor(() => pidsInFolder(join(root.path, 'plugin')), (pids) => pids.length === 0, 3_000)).toEqual([]);
  });

  it('with sandbox: off, the host exits when its parent goes', async () => {
    const config = join(root.path, 'kill-off.json');
    await writeFile(config, JSON.stringify({ plugins: [{ path: plugin, sandbox: 'off' }] }));
    await killDuringBlockingCall(config);
    expect(await waitFor(() => pidsInFolder(join(root.path, 'plugin')), (pids) => pids.length === 0, 3_000)).toEqual([]);
  });
});
