// The defaults and bounds README.md's "## Config" section promises, each shown where it
// changes behaviour: the config parsed as toolport parses it (src/config/load.ts), then the
// default at work through createToolport or the real CLI.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { loadConfigFile, parseConfig } from '../../src/config/load.js';
import { createSilentLogger } from '../../src/core/logger.js';
import { createSessionTable } from '../../src/server/sessions.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { callTool } from '../helpers/call-tool.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { connectClient, startStdioProcess } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const fixture = (path: string): string => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const crashy = fixture('policy/crashy.mjs');
const collide = fixture('module/collide');
const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

const dir = useTempDir('toolport-readme-defaults-', 'all');

async function configFile(name: string, text: string): Promise<string> {
  const path = join(dir.path, name);
  await writeFile(path, text);
  return path;
}

describe('README: defaults.loadTimeoutSeconds defaults to 30', () => {
  afterEach(() => {
    vi.useRealTimers();
    delete (globalThis as { __readmeInitCalled?: boolean }).__readmeInitCalled;
  });

  it('is 30 in a config that does not set it', async () => {
    const { config } = await loadConfigFile(await configFile('no-defaults.yaml', 'plugins: []\n'), {});
    expect(config.defaults.loadTimeoutSeconds).toBe(30);
  });

  it('a plugin whose init() never returns is still waited for at 29.999 s and reported at 30 s', async () => {
    // A hanging plugin of our own, so the test knows when its load (and the deadline) began.
    const hangs = await configFile(
      'hangs.mjs',
      [
        'export default {',
        "  manifest: { id: 'hangs', tools: [{ name: 'never', description: 'Never served.', annotations: { readOnlyHint: true } }] },",
        '  init() { globalThis.__readmeInitCalled = true; return new Promise(() => {}); },',
        "  executeTool() { return 'unreachable'; },",
        '};',
      ].join('\n'),
    );
    const config = parseConfig({ plugins: [{ path: hangs }] }, { env: {} });
    expect(config.defaults.loadTimeoutSeconds).toBe(30);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let toolport: Toolport | undefined;
    let failed: unknown;
    const starting = createToolport(config).then(
      (started) => (toolport = started),
      (error: unknown) => (failed = error),
    );
    const realTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    try {
      for (let waited = 0; !(globalThis as { __readmeInitCalled?: boolean }).__readmeInitCalled; waited += 1) {
        if (waited > 20_000 || failed) throw new Error(`the plugin's init() was never called: ${String(failed)}`);
        await realTick();
      }
      await vi.advanceTimersByTimeAsync(29_999);
      for (let index = 0; index < 20; index += 1) await realTick();
      expect(toolport, 'createToolport gave up on the plugin before 30 s').toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await starting;
      vi.useRealTimers();
      expect(failed).toBeUndefined();
      expect(toolport?.diagnostics.map((diagnostic) => diagnostic.message)).toContainEqual(
        `plugins[0] ${hangs}: did not load within 30 s (defaults.loadTimeoutSeconds); the other plugins are served without it`,
      );
      expect(toolport?.listTools().map((tool) => tool.name)).toEqual([]);
    } finally {
      vi.useRealTimers();
      await starting;
      await toolport?.close();
    }
  });
});

describe('README: defaults.maxArgumentBytes defaults to 4194304', () => {
  it('is 4194304 in a config that does not set it', async () => {
    const { config } = await loadConfigFile(await configFile('no-defaults-2.yaml', 'plugins: []\n'), {});
    expect(config.defaults.maxArgumentBytes).toBe(4194304);
  });

  it('accepts arguments of exactly 4194304 bytes as JSON and refuses 4194305, naming the limit', async () => {
    const limit = 4194304;
    const toolport = await createToolport(parseConfig({ policy: { unknownSideEffects: 'allow' }, plugins: [{ path: crashy }] }, { env: {} }));
    try {
      // {"blob":"…"} is 11 bytes around the text.
      const atLimit = { blob: 'x'.repeat(limit - 11) };
      expect(jsonBytes(atLimit)).toBe(limit);
      const fits = await callTool(toolport, 'crashy__echo', atLimit);
      expect(fits.isError).not.toBe(true);
      expect(textOf(fits)).toBe(`got ${limit} bytes`);
      const over = { blob: 'x'.repeat(limit - 10) };
      expect(jsonBytes(over)).toBe(limit + 1);
      const refused = await callTool(toolport, 'crashy__echo', over);
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toBe(`Invalid arguments for crashy__echo: they are ${limit + 1} bytes as JSON, more than ${limit} (defaults.maxArgumentBytes)`);
    } finally {
      await toolport.close();
    }
  });
});

describe('README: server.name defaults to toolport', () => {
  let client: Client | undefined;
  afterEach(async () => {
    await client?.close();
    client = undefined;
  });

  it('is toolport in a config that does not set it', async () => {
    const { config } = await loadConfigFile(await configFile('no-server.yaml', `plugins:\n  - path: ${crashy}\n`), {});
    expect(config.server.name).toBe('toolport');
  });

  it('is the serverInfo.name an MCP client sees (and server.name, when set, replaces it)', async () => {
    const plain = await configFile('plain.yaml', `plugins:\n  - path: ${crashy}\n`);
    client = await connectClient('stdio', { serveArgs: ['--config', plain] });
    expect(client.getServerVersion()?.name).toBe('toolport');
    await client.close();
    const named = await configFile('named.yaml', `server:\n  name: my-gateway\nplugins:\n  - path: ${crashy}\n`);
    client = await connectClient('stdio', { serveArgs: ['--config', named] });
    expect(client.getServerVersion()?.name).toBe('my-gateway');
  });
});

describe('README: naming.maxLength is 16-64', () => {
  it.each([15, 65])('refuses %i with a config error naming naming.maxLength, at its line and column', async (maxLength) => {
    const file = await configFile(`max-${maxLength}.yaml`, `naming:\n  maxLength: ${maxLength}\n`);
    const error = await loadConfigFile(file, {}).then(() => undefined, (reason: Error) => reason);
    expect(error?.message).toContain(`invalid config ${file}`);
    expect(error?.message).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2:14: naming\\.maxLength: Too (small|big): expected number to be ${maxLength < 16 ? '>=16' : '<=64'}`));
    expect(() => parseConfig({ naming: { maxLength } }, { env: {} })).toThrow(/naming\.maxLength: /);
  });

  it.each([16, 64])('accepts %i', async (maxLength) => {
    const { config } = await loadConfigFile(await configFile(`max-${maxLength}.yaml`, `naming:\n  maxLength: ${maxLength}\n`), {});
    expect(config.naming.maxLength).toBe(maxLength);
  });

  it('at 16, a longer exposed name is cut to 16 with _ and 8 hex digits of the SHA-256 of the full name', async () => {
    const toolport = await createToolport(
      parseConfig({ naming: { maxLength: 16 }, policy: { unknownSideEffects: 'allow' }, plugins: [{ path: crashy, id: 'longer_plugin_id' }] }, { env: {} }),
    );
    try {
      const full = 'longer_plugin_id__echo';
      const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
      const names = toolport.listTools().map((tool) => tool.name);
      expect(names).toContain(`longer_${hash}`);
      for (const name of names) expect(name.length).toBeLessThanOrEqual(16);
      const echoed = await callTool(toolport, `longer_${hash}`, { a: 1 });
      expect(textOf(echoed)).toBe('got 7 bytes');
    } finally {
      await toolport.close();
    }
  });
});

describe('README: the serve log says which tools collided', () => {
  it('names the colliding tool, both plugins and their files, and how to fix it; then the server stops', async () => {
    const server = startStdioProcess([collide], { logLevel: 'info' });
    try {
      const deadline = Date.now() + 20_000;
      while (!server.stderr().includes('tool name collision') && Date.now() < deadline && server.process.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const lines = server
        .stderr()
        .split('\n')
        .filter((line) => line.includes('tool name collision'));
      expect(lines.length, server.stderr()).toBeGreaterThan(0);
      const messages = lines.map((line) => {
        try {
          return (JSON.parse(line) as { msg?: string }).msg ?? line;
        } catch {
          return line;
        }
      });
      expect(messages[0]).toMatch(
        /tool name collision on "alpha__search": tool "search" of plugin "alpha" \(\S*c-third\.mjs\) would get the name that tool "search" of plugin "alpha" \(\S*a-first\.mjs\) already has; it is disabled; give one of the plugins a different "id" in the config/,
      );
    } finally {
      const { code } = await server.end();
      expect(code).toBe(0);
    }
  });
});

describe('README: the "Too many open sessions" messages', () => {
  it('are, word for word, the ones the README shows for a cap of 500 per principal and 1000 in all', () => {
    const table = createSessionTable({ maxSessions: 1000, maxSessionsPerPrincipal: 500, idleMs: 3_600_000 }, createSilentLogger());
    try {
      for (let index = 0; index < 500; index += 1) expect(table.admit('alice', async () => {}).ok).toBe(true);
      const perPrincipal = table.admit('alice', async () => {});
      expect(perPrincipal.ok).toBe(false);
      expect(!perPrincipal.ok && perPrincipal.message).toBe(
        'Too many open sessions for this principal: server.http.maxSessionsPerPrincipal (500) reached; close one (DELETE it) or retry later',
      );
      for (let index = 0; index < 500; index += 1) expect(table.admit('bob', async () => {}).ok).toBe(true);
      const total = table.admit('carol', async () => {});
      expect(total.ok).toBe(false);
      expect(!total.ok && total.message).toBe('Too many open sessions: server.http.maxSessions (1000) reached; retry later');
    } finally {
      table.close();
    }
  });
});
