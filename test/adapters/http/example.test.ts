// The Trailhead example end to end: its API in its own process, toolport as the built
// CLI, and a real SDK client over stdio, Streamable HTTP (both eras) and legacy SSE;
// then per-principal relationship tokens, the server log, and `npm start` itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTransports, binPath, connectClient, repoRoot, runToEnd, runToolport, serveConfig, startHttpServer, type RunningServer } from '../../helpers/toolport-process.js';
import { freePort } from '../../helpers/mqtt-broker.js';
import { isAlive } from '../../helpers/processes.js';

const exampleDir = join(repoRoot, 'examples', 'http');
const exampleConfig = join(exampleDir, 'toolport.yaml');
const secret = 'trailhead-e2e-secret-4c2d91';

interface Api {
  origin: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function waitForLine(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in 20 s:\n${seen}`)), 20_000);
    child[stream]?.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${seen}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function startExampleApi(): Promise<Api> {
  const child = spawn(process.execPath, [join(exampleDir, 'trailhead-api.mjs'), '--port', '0'], {
    env: { ...process.env, TRAILHEAD_SECRET: secret },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const match = await waitForLine(child, 'stdout', /listening (http:\/\/\S+)/, 'the trailhead API');
  return { origin: match[1] as string, child, stop: () => stopChild(child) };
}


function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

let api: Api;
let env: Record<string, string>;

beforeAll(async () => {
  api = await startExampleApi();
  env = { TRAILHEAD_MANIFEST_URL: `${api.origin}/carterplugin.json`, TRAILHEAD_SECRET: secret };
});
afterAll(async () => {
  await api?.stop();
});

describe.each(allTransports)('http example over %s', (era) => {
  let client: Client;
  let server: RunningServer | undefined;

  beforeAll(async () => {
    if (era === 'stdio') {
      client = await connectClient(era, { serveArgs: ['--config', exampleConfig], env });
    } else {
      server = await startHttpServer(['--config', exampleConfig], { env });
      client = await connectClient(era, { url: server.url });
    }
  });
  afterAll(async () => {
    await client?.close();
    await server?.stop();
  });

  it('lists the example tools with their schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['trailhead__favourite_trail', 'trailhead__list_trails', 'trailhead__plan_hike', 'trailhead__trail_report']);
    const plan = tools.find((tool) => tool.name === 'trailhead__plan_hike');
    expect(plan?.inputSchema).toMatchObject({
      type: 'object',
      properties: { trail: { type: 'string' }, hours_available: { type: 'number' }, with_dog: { type: 'boolean' } },
      required: ['trail', 'hours_available'],
      additionalProperties: false,
    });
    expect(plan?.outputSchema?.properties).toMatchObject({ estimated_hours: { type: 'number' }, fits: { type: 'boolean' }, advice: { type: 'string' } });
    expect(plan?.annotations).toEqual({ openWorldHint: true });
    expect(plan?.description).toContain('Part of the Trailhead plugin: Trail conditions');
    expect(plan?._meta?.['toolport/origin']).toEqual({ plugin: 'trailhead', tool: 'plan_hike' });
  });

  it('calls tools: POST and GET endpoints, structured data, a forced response, a failure', async () => {
    await client.listTools(); // the client checks structuredContent against the listed outputSchema
    const report = await client.callTool({ name: 'trailhead__trail_report', arguments: { trail: 'ridge_loop' } });
    expect(report.isError).toBeFalsy();
    expect(report.structuredContent).toEqual({
      name: 'Ridge Loop', open: true, length_km: 11.2, elevation_gain_m: 640, dogs_allowed: true, note: 'Exposed on the ridge; bring a layer.',
    });
    const list = await client.callTool({ name: 'trailhead__list_trails', arguments: {} });
    expect(list.structuredContent).toMatchObject({ open_count: 3, trails: { lakeshore: 'Lakeshore Path' } });
    const plan = await client.callTool({ name: 'trailhead__plan_hike', arguments: { trail: 'summit_push', hours_available: 4, with_dog: true } });
    expect(plan.structuredContent).toEqual({ estimated_hours: 5.7, fits: false, advice: 'Dogs are not allowed on Summit Push. You need about 5.7 h; pick a shorter trail or start early.' });
    const closed = await client.callTool({ name: 'trailhead__plan_hike', arguments: { trail: 'cedar_falls', hours_available: 4 } });
    expect(closed.isError).toBe(true);
    expect(textOf(closed)).toContain('verbatim, with nothing added or changed:\n\nCedar Falls Trail is closed today for bridge repairs.');
    const unknown = await client.callTool({ name: 'trailhead__trail_report', arguments: { trail: 'atlantis' } });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toBe('No trail called "atlantis".\nFallback suggestions:\n- call list_trails for the trail ids\n- check the spelling');
  });
});

describe('http example: principals and logs', () => {
  let server: RunningServer;
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    server = await serveConfig(
      [
        'server:',
        '  http:',
        '    auth:',
        '      tokens:',
        '        - { token: alice-token-1, principal: alice }',
        '        - { token: bob-token-2, principal: bob }',
        'plugins:',
        '  - path: ${TRAILHEAD_MANIFEST_URL}',
        '    secretToken: ${TRAILHEAD_SECRET}',
        // This suite is about relationships, not approvals: saving a favourite may run.
        'policy:',
        '  rules:',
        '    - { tool: trailhead__favourite_trail, action: allow }',
      ],
      { env },
    );
    alice = await connectClient('http-2025', { url: server.url, headers: { authorization: 'Bearer alice-token-1' } });
    bob = await connectClient('http-2026', { url: server.url, headers: { authorization: 'Bearer bob-token-2' } });
  });
  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await server?.stop();
  });

  it('each principal is its own Carter relationship: state kept per user', async () => {
    const set = await alice.callTool({ name: 'trailhead__favourite_trail', arguments: { trail: 'lakeshore' } });
    expect(set.structuredContent).toEqual({ favourite: 'lakeshore', saved: true });
    expect((await bob.callTool({ name: 'trailhead__favourite_trail', arguments: {} })).structuredContent).toEqual({ favourite: 'none', saved: false });
    expect((await alice.callTool({ name: 'trailhead__favourite_trail', arguments: {} })).structuredContent).toEqual({ favourite: 'lakeshore', saved: false });
  });

  it('the server log never holds the secret token', async () => {
    await alice.callTool({ name: 'trailhead__trail_report', arguments: { trail: 'nowhere' } });
    await server.stop();
    const log = server.stderr();
    expect(log).toContain('plugins loaded');
    expect(log).not.toContain(secret);
  });
});

it('a wrong secret token: the caller is told to check secretToken; the log has one warn line with the code, and no stack trace', async () => {
  const result = await runToolport(['call', 'trailhead__trail_report', '{"trail":"ridge_loop"}', '--config', exampleConfig], {
    env: { ...env, TRAILHEAD_SECRET: 'not-the-secret' },
  });
  expect(result.code).toBe(1);
  expect(result.stdout).toContain("trail_report: the plugin's API answered HTTP 403; it did not accept the secret token (check the plugin's secretToken in the toolport config)");
  const warnings = result.stderr
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.level === 40);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ tool: 'trailhead__trail_report', code: 'PLUGIN_CRASHED' });
  expect(warnings[0]?.msg).toContain('did not accept the secret token');
  expect(result.stderr).not.toMatch(/\n\s+at |"stack"/);
});

describe('npm start', () => {
  it('starts the example API beside toolport, serves every example, and stops both', async () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const [node, ...args] = (pkg.scripts.start ?? '').split(' ');
    expect(node).toBe('node');
    const launcher = spawn(process.execPath, [...args, '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const [serving, started] = await Promise.all([
        waitForLine(launcher, 'stdout', /serving at (http:\/\/\S+)\/mcp/, 'npm start'),
        waitForLine(launcher, 'stderr', /trailhead example API at \S+ \(pid (\d+)\)/, 'the example API'),
      ]);
      const apiPid = Number(started[1]);
      expect(isAlive(apiPid)).toBe(true);
      const client = await connectClient('http-2026', { url: serving[1] });
      try {
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        expect(names).toEqual(expect.arrayContaining(['trailhead__trail_report', 'notebook__add_note']));
        const result = await client.callTool({ name: 'trailhead__trail_report', arguments: { trail: 'lakeshore' } });
        expect(result.structuredContent).toMatchObject({ name: 'Lakeshore Path', open: true });
      } finally {
        await client.close();
      }
      const exited = new Promise<number | null>((resolve) => launcher.once('exit', (code) => resolve(code)));
      launcher.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(isAlive(apiPid)).toBe(false);
    } finally {
      await stopChild(launcher);
    }
  });

  it('when the shell that ran the launcher is killed (as npm does), toolport and the API stop too', async () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const command = [...(pkg.scripts.start ?? '').split(' ').map((part) => (part === 'node' ? process.execPath : part)), '--port', '0'];
    // `; true` keeps sh as the parent instead of letting it exec the launcher.
    const shell = spawn('sh', ['-c', `${command.map((part) => `'${part}'`).join(' ')}; true`], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let pids: number[] = [];
    try {
      const [, started, running] = await Promise.all([
        waitForLine(shell, 'stdout', /serving at (http:\/\/\S+)\/mcp/, 'toolport'),
        waitForLine(shell, 'stderr', /trailhead example API at \S+ \(pid (\d+)\)/, 'the example API'),
        waitForLine(shell, 'stderr', /launcher \(pid (\d+)\) running \S+ \(pid (\d+)\)/, 'the launcher'),
      ]);
      pids = [Number(started[1]), Number(running[1]), Number(running[2])];
      expect(pids.every(isAlive)).toBe(true);
      shell.kill('SIGTERM');
      const until = Date.now() + 8_000;
      while (pids.some(isAlive) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(pids.filter(isAlive)).toEqual([]);
    } finally {
      await stopChild(shell);
      for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
    }
  });

  it('the launcher puts the API on its port (8810, or TRAILHEAD_PORT) while that is free, so the tools keep their pins from one start to the next; a free port when it is taken', async () => {
    const port = await freePort();
    const launcher = join(exampleDir, 'with-api.mjs');
    const stateDir = await mkdtemp(join(tmpdir(), 'toolport-pins-'));
    const run = (args: string[]) =>
      runToEnd(process.execPath, [launcher, process.execPath, binPath, ...args, '--config', join(repoRoot, 'examples', 'toolport.yaml')], {
        cwd: repoRoot,
        env: { ...process.env, TRAILHEAD_PORT: String(port), TOOLPORT_STATE_DIR: stateDir },
      });
    try {
      for (let start = 0; start < 2; start++) {
        const listed = await run(['list']);
        expect(listed.code).toBe(0);
        expect(listed.stderr).toContain(`trailhead example API at http://127.0.0.1:${port} `);
      }
      const pins = JSON.parse((await run(['pins', 'list', '--json'])).stdout) as { tools: { plugin: string; state: string }[] };
      const trailhead = pins.tools.filter((row) => row.plugin === 'trailhead');
      expect(trailhead.map((row) => row.state)).toEqual(['pinned', 'pinned', 'pinned', 'pinned']);
      // The port taken: the API goes to a free one, and the tools still load.
      const holder = createServer().listen(port, '127.0.0.1');
      await once(holder, 'listening');
      try {
        const listed = await run(['list']);
        expect(listed.code).toBe(0);
        expect(listed.stdout).toContain('trailhead__trail_report');
        expect(listed.stderr).toMatch(/trailhead example API at http:\/\/127\.0\.0\.1:(\d+) /);
        expect(listed.stderr).not.toContain(`trailhead example API at http://127.0.0.1:${port} `);
      } finally {
        holder.close();
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('when the launcher is killed outright, the API stops with it', async () => {
    const idle = [process.execPath, '-e', 'setInterval(() => {}, 60_000)'];
    const launcher = spawn(process.execPath, [join(exampleDir, 'with-api.mjs'), ...idle], { stdio: ['ignore', 'ignore', 'pipe'] });
    const [started, running] = await Promise.all([
      waitForLine(launcher, 'stderr', /trailhead example API at \S+ \(pid (\d+)\)/, 'the example API'),
      waitForLine(launcher, 'stderr', /running \S+ \(pid (\d+)\)/, 'the launcher'),
    ]);
    const apiPid = Number(started[1]);
    const idlePid = Number(running[1]);
    try {
      launcher.kill('SIGKILL');
      const until = Date.now() + 5_000;
      while (isAlive(apiPid) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(isAlive(apiPid)).toBe(false);
    } finally {
      // The command itself is the caller's to stop once the launcher is gone.
      for (const pid of [idlePid, apiPid].filter(isAlive)) process.kill(pid, 'SIGKILL');
    }
  });

  it('the launcher refuses to run without a command', async () => {
    const child = spawn(process.execPath, [join(exampleDir, 'with-api.mjs')], { stdio: ['ignore', 'ignore', 'pipe'] });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(2);
  });
});
