// Hooks loaded from the config (paths relative to it), end to end through real SDK clients
// over stdio, Streamable HTTP in both eras and SSE: a blocking, a crashing and a hanging
// tool_call hook stop the call before the plugin runs and the model sees why; tool_result
// hooks redact and truncate; a hook module's tool is served; sessions are reported; a hook
// module that cannot load stops start-up.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, connectClient, readLines, repoRoot, serveConfig, type ConfiguredServer, type Era } from '../helpers/toolport-process.js';

const run = promisify(execFile);
const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/hooks/${name}`, import.meta.url));
const chefToken = 'chef-token-0123456789';

let dir: string;
let ledger: string;
let eventsFile: string;
let configPath: string;
let http: ConfiguredServer;

beforeAll(async () => {
  http = await serveConfig(
    (scratch) => [
      'server:',
      '  http:',
      '    auth:',
      '      tokens: [{ token: "${CHEF_TOKEN}", principal: chef }]',
      'hooks:',
      `  - { path: ./hooks/guard.mjs, timeoutSeconds: 1, settings: { events: ${JSON.stringify(join(scratch, 'events.jsonl'))} } }`,
      '  - ./hooks/truncate.mjs',
      // Not about approvals: the kitchen's tools (some write its ledger) run without asking.
      'policy: { unknownSideEffects: allow }',
      'plugins:',
      `  - path: ${fixture('kitchen.mjs')}`,
      `    settings: { ledger: ${JSON.stringify(join(scratch, 'ledger.txt'))} }`,
    ],
    {
      env: { CHEF_TOKEN: chefToken },
      prepare: async (scratch) => {
        await mkdir(join(scratch, 'hooks'));
        await copyFile(fixture('guard.mjs'), join(scratch, 'hooks', 'guard.mjs'));
        await copyFile(fixture('truncate.mjs'), join(scratch, 'hooks', 'truncate.mjs'));
      },
    },
  );
  ({ dir, configPath } = http);
  ledger = join(dir, 'ledger.txt');
  eventsFile = join(dir, 'events.jsonl');
});

afterAll(async () => {
  await http?.stop();
});

const ledgerLines = (): Promise<string[]> => readLines(ledger);

async function recorded(): Promise<Record<string, unknown>[]> {
  try {
    return (await readFile(eventsFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  } catch {
    return [];
  }
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const textOf = (result: { content?: unknown }): string => ((result.content ?? []) as { text?: string }[]).map((block) => block.text ?? '').join('\n');

function connect(era: Era) {
  return era === 'stdio'
    ? connectClient(era, { serveArgs: ['--config', configPath], env: { CHEF_TOKEN: chefToken } })
    : connectClient(era, { url: http.url, headers: { authorization: `Bearer ${chefToken}` } });
}

describe.each<Era>(['stdio', 'http-2025', 'http-2026', 'sse'])('hooks from the config over %s', (era) => {
  const principal = era === 'stdio' ? 'local' : 'chef';

  it('a blocking tool_call hook stops the call before the plugin runs; the model sees the message', async () => {
    const client = await connect(era);
    try {
      const before = await ledgerLines();
      const result = await client.callTool({ name: 'kitchen__order', arguments: { item: `forbidden fish ${era}` } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(`kitchen__order was blocked by hook guard.mjs: orders of "forbidden fish ${era}" are not accepted by the kitchen guard`);
      expect(await ledgerLines()).toEqual(before);
      const ok = await client.callTool({ name: 'kitchen__order', arguments: { item: `noodles ${era}` } });
      expect(textOf(ok)).toBe(`ordered noodles ${era}`);
      expect(await ledgerLines()).toHaveLength(before.length + 1);
    } finally {
      await client.close();
    }
  });

  it('a crashing or hanging hook blocks too (fail closed)', async () => {
    const client = await connect(era);
    try {
      const before = await ledgerLines();
      const crashed = await client.callTool({ name: 'kitchen__order', arguments: { item: 'crash' } });
      expect(crashed.isError).toBe(true);
      expect(textOf(crashed)).toMatch(/^kitchen__order was blocked by hook guard\.mjs: TypeError: /);
      const hung = await client.callTool({ name: 'kitchen__order', arguments: { item: 'hang' } });
      expect(hung.isError).toBe(true);
      expect(textOf(hung)).toBe('kitchen__order was blocked by hook guard.mjs: did not finish within 1 s');
      expect(await ledgerLines()).toEqual(before);
    } finally {
      await client.close();
    }
  });

  it('tool_result hooks redact, then truncate (registration order)', async () => {
    const client = await connect(era);
    try {
      const result = await client.callTool({ name: 'kitchen__recipe', arguments: { dish: 'ramen' } });
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe('Recipe for ramen: call the supplier with… [truncated]');
      const short = await client.callTool({ name: 'kitchen__order', arguments: { item: 'SECRET-abc' } });
      expect(textOf(short)).toBe('ordered [redacted by guard]');
    } finally {
      await client.close();
    }
  });

  it("a hook module's registered tool is listed and called like any other", async () => {
    const client = await connect(era);
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toEqual(expect.arrayContaining(['guard__ping', 'kitchen__order']));
      expect(textOf(await client.callTool({ name: 'guard__ping', arguments: {} }))).toBe(`pong for ${principal}`);
    } finally {
      await client.close();
    }
  });
});

describe('events seen by a config hook', () => {
  it('tool_call carries name, arguments, call id and principal', async () => {
    const calls = (await recorded()).filter((event) => event.type === 'tool_call' && event.tool === 'kitchen__order');
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.find((event) => event.principal === 'chef')).toMatchObject({ plugin: 'kitchen', arguments: { item: expect.any(String) as string }, callId: expect.any(String) as string });
    expect(calls.find((event) => event.principal === 'local')).toBeDefined();
  });

  it('session_start and session_end for stdio, HTTP sessions and SSE, with the same session id as the calls', async () => {
    for (const era of ['http-2025', 'sse'] as const) {
      const client = await connect(era);
      await client.callTool({ name: 'guard__ping', arguments: {} });
      const callEvent = await waitFor(
        async () => (await recorded()).findLast((event) => event.type === 'tool_call' && event.tool === 'guard__ping' && event.principal === 'chef'),
        'the tool_call event',
      );
      const session = callEvent.session as string;
      expect(session, era).toEqual(expect.any(String));
      if (era === 'http-2025') await (client.transport as StreamableHTTPClientTransport).terminateSession();
      await client.close();
      const start = (await recorded()).find((event) => event.type === 'session_start' && event.session === session);
      expect(start, era).toMatchObject({ principal: 'chef', transport: era === 'sse' ? 'sse' : 'http', client: 'toolport-test/1.0.0' });
      await waitFor(async () => (await recorded()).find((event) => event.type === 'session_end' && event.session === session), `session_end over ${era}`);
    }
    // stdio in both eras; a 2026-07-28 connection has no handshake, so it starts at its first request.
    for (const era of ['stdio', 'stdio-modern'] as const) {
      const seen = new Set((await recorded()).filter((event) => event.type === 'session_end').map((event) => event.session));
      const stdio = await connectClient(era, { serveArgs: ['--config', configPath], env: { CHEF_TOKEN: chefToken } });
      await stdio.callTool({ name: 'guard__ping', arguments: {} });
      await stdio.close();
      const local = await waitFor(
        async () => (await recorded()).find((event) => event.type === 'session_end' && event.transport === 'stdio' && !seen.has(event.session)),
        `session_end over ${era}`,
      );
      const start = (await recorded()).find((event) => event.type === 'session_start' && event.session === local.session);
      expect(start, era).toMatchObject({ principal: 'local', protocolVersion: era === 'stdio' ? (expect.stringMatching(/^2025-/) as string) : '2026-07-28' });
      const call = (await recorded()).find((event) => event.type === 'tool_call' && event.session === local.session);
      expect(call, era).toMatchObject({ tool: 'guard__ping', principal: 'local' });
    }
  });
});

describe('hook modules that cannot load', () => {
  async function check(hooksLine: string): Promise<{ code: number; stderr: string }> {
    const config = join(dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(config, [`hooks: [${hooksLine}]`, 'plugins:', `  - path: ${fixture('kitchen.mjs')}`].join('\n'));
    try {
      await run(process.execPath, [binPath, 'check', '--config', config], { cwd: repoRoot });
      return { code: 0, stderr: '' };
    } catch (error) {
      const failed = error as { code: number; stderr: string };
      return { code: failed.code, stderr: failed.stderr };
    }
  }

  it('stop start-up with the entry and the reason, instead of running unguarded', async () => {
    const broken = await check(JSON.stringify(fixture('broken.mjs')));
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`hooks[0] (${fixture('broken.mjs')}): registering its hooks failed (Error: the guard could not reach its rule store)`);
    const missing = await check('./nowhere/guard.mjs');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`hooks[0] (${join(dir, 'nowhere/guard.mjs')}): file not found`);
    const kitchenAsHook = await check(JSON.stringify(fixture('kitchen.mjs')));
    expect(kitchenAsHook.code).toBe(2);
    expect(kitchenAsHook.stderr).toMatch(/hooks\[0\] .*kitchen\.mjs\): (exports no hooks|registering its hooks failed)/);
  });
});
