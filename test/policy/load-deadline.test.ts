// Nothing hangs the server: a plugin that does not finish loading within
// defaults.loadTimeoutSeconds (a Python plugin blocking at import, a module plugin whose
// init() never returns) is reported, its process is killed, and the other plugins are served.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { binPath, connectClient, serveConfig } from '../helpers/toolport-process.js';

const run = promisify(execFile);
const fixture = (path: string): string => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));
const hangsAtImport = fixture('python/hangs_at_import.py');
const config = [
  'defaults: { loadTimeoutSeconds: 2 }',
  'plugins:',
  `  - path: ${hangsAtImport}`,
  `  - path: ${fixture('module/hangs-in-init.mjs')}`,
  `  - path: ${fixture('module/e2e.mjs')}`,
];

/** The command lines of the live processes descended from `root` (Linux /proc). */
async function descendants(root: number): Promise<string[]> {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (stat === '' || fields[0] === 'Z') continue;
    parents.set(Number(entry), Number(fields[1]));
    commands.set(Number(entry), (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' '));
  }
  const isBelow = (pid: number): boolean => {
    for (let parent = parents.get(pid); parent !== undefined && parent > 1; parent = parents.get(parent)) if (parent === root) return true;
    return false;
  };
  return [...commands].filter(([pid]) => isBelow(pid)).map(([, command]) => command);
}

describe('plugin load deadlines', () => {
  it('serve answers within the deadline + 1 s with the plugins that loaded, and leaves no process of the stuck one', async () => {
    const http = await serveConfig(config);
    try {
      // From the start of loading to the end of it, by the server's own clock (its log lines).
      const timeOf = (message: string): number => {
        const line = http.stderr().split('\n').find((entry) => entry.includes(`"msg":"${message}"`));
        return (JSON.parse(line ?? '{}') as { time?: number }).time ?? Number.NaN;
      };
      expect(timeOf('plugins loaded') - timeOf('loading plugins')).toBeLessThan(3_000);
      expect(http.stderr()).toContain('did not load within 2 s (defaults.loadTimeoutSeconds)');
      const client = await connectClient('http-2026', { url: http.url });
      try {
        const names = (await client.listTools()).tools.map((tool) => tool.name);
        expect(names).toContain('e2e__weather');
        expect(names.some((name) => name.startsWith('stuck__') || name.startsWith('hangs_at_import'))).toBe(false);
      } finally {
        await client.close();
      }
      // The Python host that blocked at import was killed at the deadline, not left behind.
      const left = await descendants(http.process.pid ?? -1);
      expect(left.filter((command) => command.includes('host/main.py'))).toEqual([]);
    } finally {
      await http.stop();
    }
  });

  it('a plugin that finishes loading after its deadline joins, and clients are told the list changed', async () => {
    const http = await serveConfig([
      'defaults: { loadTimeoutSeconds: 1 }',
      // Caches of its own: a start with a kept-catalogue record of this plugin (from an earlier
      // run) would list its tools at once, before it has loaded.
      'stateDir: ./state',
      'plugins:',
      `  - path: ${fixture('module/slow-init.mjs')}`,
      '    settings: { delayMs: 6000 }',
      `  - path: ${fixture('module/e2e.mjs')}`,
    ]);
    const client = await connectClient('http-2025', { url: http.url });
    try {
      const changed = new Promise<void>((resolve) => client.setNotificationHandler('notifications/tools/list_changed', () => resolve()));
      const before = (await client.listTools()).tools.map((tool) => tool.name);
      expect(before).not.toContain('late__hello');
      await changed;
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('late__hello');
      expect(await client.callTool({ name: 'late__hello', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'hello, eventually' }] });
    } finally {
      await client.close();
      await http.stop();
    }
  });

  it('check reports a plugin that missed its deadline and exits 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'toolport-deadline-'));
    const path = join(dir, 'toolport.yaml');
    await writeFile(path, `${config.join('\n')}\n`);
    try {
      const failure = await run(process.execPath, [binPath, 'check', '--config', path]).then(
        () => undefined,
        (error: { code: number; stderr: string; stdout: string }) => error,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain(`plugins[0] ${hangsAtImport}: did not load within 2 s (defaults.loadTimeoutSeconds)`);
      expect(failure?.stderr).toContain('plugins[1]');
      expect(failure?.stdout).toMatch(/\d+ errors?; \d+ tools usable/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
