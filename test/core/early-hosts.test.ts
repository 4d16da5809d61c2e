// core/early-hosts.ts on its own, with real processes (`sleep`): what one start keeps, the
// next start with the same command line starts, and hands out only for an exact match.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEarlyHosts, type EarlyHosts, type HostDescription } from '../../src/core/early-hosts.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { childrenOf, isAlive, waitFor } from '../helpers/processes.js';

const dir = useTempDir('toolport-early-core-');
let env: Record<string, string>;
const opened: EarlyHosts[] = [];
const argv = ['serve', '--config', 'toolport.yaml'];

beforeEach(async () => {
  env = { PATH: process.env.PATH ?? '/usr/bin:/bin', TOOLPORT_STATE_DIR: join(dir.path, 'state'), SLEEPY_TOKEN: 'value-1' };
  await writeFile(join(dir.path, 'toolport.yaml'), 'plugins: []\n');
});

afterEach(() => {
  for (const hosts of opened.splice(0)) hosts.close();
});

const sleeper = (extra: Record<string, string> = {}): HostDescription => ({ command: ['sleep', '30'], cwd: dir.path, env: { PATH: env.PATH ?? '', SLEEPY_TOKEN: 'value-1', ...extra } });

function open(options: { argv?: readonly string[]; env?: Record<string, string> } = {}): EarlyHosts {
  const hosts = startEarlyHosts(options.argv ?? argv, options.env ?? env, dir.path);
  opened.push(hosts);
  return hosts;
}

/** A start that read `config` and kept `descriptions` (for plugins plugin-0, plugin-1, …), then ended. */
function keepAt(descriptions: readonly HostDescription[], config = 'plugins: []\n', takenBefore: readonly string[] = []): void {
  const hosts = open();
  hosts.useConfig(join(dir.path, 'toolport.yaml'), config, takenBefore);
  descriptions.forEach((description, index) => hosts.decide(`plugin-${index}`, description, true));
  hosts.close();
}

/** This process's children running `sleep <seconds>`. */
async function sleepersOf(seconds: string): Promise<number[]> {
  return (await childrenOf()).filter((entry) => entry.cmdline.trim() === `sleep ${seconds}`).map((entry) => entry.pid);
}

describe('early hosts', () => {
  it('are started at the next start and handed out once, for the same description only', () => {
    keepAt([sleeper()]);
    const hosts = open();
    expect(hosts.claim(sleeper({ SLEEPY_TOKEN: 'value-2' }))).toBeUndefined();
    const child = hosts.claim(sleeper());
    expect(child?.pid).toBeGreaterThan(0);
    expect(hosts.claim(sleeper())).toBeUndefined();
    child?.kill('SIGKILL');
  });

  it("take a variable's value from the environment at start, not from the note", () => {
    keepAt([sleeper()]);
    env.SLEEPY_TOKEN = 'rotated';
    const hosts = open();
    expect(hosts.claim(sleeper())).toBeUndefined();
    const child = hosts.claim(sleeper({ SLEEPY_TOKEN: 'rotated' }));
    expect(child?.pid).toBeGreaterThan(0);
    child?.kill('SIGKILL');
  });

  it('are not started for another command line, another TOOLPORT_CONFIG, or a variable no longer set', () => {
    keepAt([sleeper()]);
    expect(open({ argv: ['serve', '--config', 'other.yaml'] }).claim(sleeper())).toBeUndefined();
    expect(open({ env: { ...env, TOOLPORT_CONFIG: 'other.yaml' } }).claim(sleeper())).toBeUndefined();
    const without = { ...env };
    delete without.SLEEPY_TOKEN;
    expect(open({ env: without }).claim(sleeper())).toBeUndefined();
  });

  it('are stopped when not claimed', async () => {
    keepAt([sleeper(), { ...sleeper(), command: ['sleep', '3001'] }]);
    const hosts = open();
    const claimed = hosts.claim(sleeper());
    const unclaimed = await waitFor(() => sleepersOf('3001'), (pids) => pids.length === 1, 5_000);
    expect(unclaimed).toHaveLength(1);
    hosts.close();
    expect(await waitFor(() => sleepersOf('3001'), (pids) => pids.length === 0, 5_000)).toEqual([]);
    expect(isAlive(claimed?.pid ?? -1)).toBe(true);
    claimed?.kill('SIGKILL');
  });

  it('survive a program that no longer exists: nothing is claimed, nothing throws', () => {
    keepAt([{ command: [join(dir.path, 'gone')], cwd: dir.path, env: { PATH: env.PATH ?? '' } }]);
    const hosts = open();
    expect(hosts.claim({ command: [join(dir.path, 'gone')], cwd: dir.path, env: { PATH: env.PATH ?? '' } })).toBeUndefined();
  });

  it('keep at most eight', () => {
    const many = Array.from({ length: 10 }, (_, index) => sleeper({ INDEX: String(index) }));
    keepAt(many);
    const hosts = open();
    const claimed = many.map((description) => hosts.claim(description)).filter((child) => child !== undefined);
    expect(claimed).toHaveLength(8);
    for (const child of claimed) child.kill('SIGKILL');
  });

  it('stay noted for a plugin that decided nothing (a start that ended first)', () => {
    keepAt([sleeper()]);
    open().close();
    const child = open().claim(sleeper());
    expect(child?.pid).toBeGreaterThan(0);
    child?.kill('SIGKILL');
  });

  it("are replaced by a plugin's new decision, and forgotten when it wants none; other plugins' stay", () => {
    const other = { ...sleeper(), command: ['sleep', '3002'] as [string, ...string[]] };
    keepAt([sleeper(), other]);
    const second = open();
    second.decide('plugin-0', sleeper({ NEWER: '1' }), true);
    second.close();
    const third = open();
    expect(third.claim(sleeper())).toBeUndefined();
    const claimed = [third.claim(sleeper({ NEWER: '1' })), third.claim(other)];
    expect(claimed.map((child) => (child?.pid ?? 0) > 0)).toEqual([true, true]);
    third.decide('plugin-0', sleeper({ NEWER: '1' }), false);
    third.close();
    for (const child of claimed) child?.kill('SIGKILL');
    const fourth = open();
    expect(fourth.claim(sleeper({ NEWER: '1' }))).toBeUndefined();
    fourth.claim(other)?.kill('SIGKILL');
  });

  it('are not started once a config file looked for before the noted one exists', async () => {
    keepAt([sleeper()], 'plugins: []\n', [join(dir.path, 'toolport.yml')]);
    await writeFile(join(dir.path, 'toolport.yml'), 'plugins: []\n');
    expect(open().claim(sleeper())).toBeUndefined();
  });
});
