// What `toolport check` says about isolation: a line per command skill and Python plugin
// saying which namespaces, which folders and whether it has network; a refusal with what to
// install when bwrap is missing (simulated with a PATH without it), in bwrap's words when it
// cannot make a sandbox (with no Python host left behind); and a loud warning for
// a plugin whose config says `sandbox: off`.
import { spawn, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSkill } from '../adapters/command/helpers.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { binPath, repoRoot } from '../helpers/toolport-process.js';
import { isAlive } from '../helpers/processes.js';
import { needsBwrap, bwrapWorks, runCli } from './helpers.js';

const fixture = fileURLToPath(new URL('../fixtures/security/attacker.py', import.meta.url));
/** The interpreter, named by absolute path so a PATH without bwrap still finds Python. */
const python = (spawnSync(process.env.TOOLPORT_PYTHON ?? 'python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout ?? '').trim();

const root = useTempDir('toolport-check-sandbox-', 'all');
let skill: string;
let plugin: string;
let data: string;
let out: string;

beforeAll(async () => {
  skill = await writeSkill(root.path, 'skill', { agentToml: '[tools.noop]\ncommand = "scripts/noop.sh"\n', files: { 'scripts/noop.sh': '#!/bin/sh\necho ok\n' } });
  await mkdir(join(root.path, 'py'));
  plugin = join(root.path, 'py', 'attacker.py');
  await copyFile(fixture, plugin);
  data = join(root.path, 'data');
  out = join(root.path, 'out');
  await mkdir(data);
  await mkdir(out);
});

async function writeConfig(name: string, plugins: unknown[]): Promise<string> {
  const file = join(root.path, name);
  // Not about approvals: the skills' tools run without asking.
  await writeFile(file, JSON.stringify({ policy: { unknownSideEffects: 'allow' }, plugins }));
  return file;
}

describe(`toolport check: how each command skill and Python plugin is isolated${needsBwrap}`, () => {
  it.skipIf(!bwrapWorks)('names the namespaces, the network and the folders', async () => {
    const config = await writeConfig('status.json', [
      { path: skill },
      { path: skill, id: 'granted', grants: { network: true, files: { [data]: 'ro', [out]: 'rw' } } },
      { path: plugin, python },
    ]);
    const { code, stdout, stderr } = await runCli(['check', '--config', config]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^ok: \d+ tools\n$/);
    expect(stderr).toContain(
      `info: plugins[0] ${skill}: sandbox: bubblewrap, new pid/mount/ipc/uts/net namespaces; network: none; files: ${skill} (ro), system folders (ro), private /tmp`,
    );
    expect(stderr).toContain(
      `info: plugins[1] ${skill}: sandbox: bubblewrap, new pid/mount/ipc/uts namespaces; network: allowed (granted); files: ${skill} (ro), ${data} (ro), ${out} (rw), system folders (ro), private /tmp`,
    );
    // The interpreter's folders are listed unless they are system folders already (/usr).
    expect(stderr).toMatch(
      new RegExp(
        `info: plugins\\[2\\] ${plugin.replace(/[.]/g, '\\.')}: sandbox: bubblewrap, new pid/mount/ipc/uts/net namespaces; network: none; ` +
          `files: ${join(root.path, 'py')} \\(ro\\), \\S+ \\(ro, toolport's Python host\\), (\\S+ \\(ro, Python\\), )*system folders \\(ro\\), private /tmp; starting programs: refused\n`,
      ),
    );
  });
});

describe('toolport check: without bubblewrap', () => {
  const noBwrap = { PATH: '/nonexistent-toolport-test' };

  it('refuses to start a command skill or a Python plugin, and says what to install', async () => {
    const config = await writeConfig('missing.json', [{ path: skill }, { path: plugin, python }]);
    const { code, stdout, stderr } = await runCli(['check', '--config', config], noBwrap);
    expect(code).toBe(1);
    expect(stdout).toBe('2 errors; 0 tools usable\n');
    for (const [index, path, what] of [
      [0, skill, 'command skills'],
      [1, plugin, 'Python plugins'],
    ] as const) {
      expect(stderr).toContain(
        `error: plugins[${index}] ${path}: bubblewrap (bwrap) is not installed here (not found on PATH); toolport runs ${what} inside it to enforce their grants. ` +
          'Install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap), ' +
          'or set "sandbox: off" in this plugin\'s config to run it without isolation',
      );
    }
  });

  it('runs a plugin whose config says sandbox: off, with a loud warning in check and in the log', async () => {
    const config = await writeConfig('off.json', [
      { path: skill, sandbox: 'off' },
      { path: plugin, python, sandbox: 'off' },
    ]);
    const check = await runCli(['check', '--config', config], noBwrap);
    expect(check.code, check.stderr).toBe(0);
    const warning = "sandbox: off (set in the config): runs with toolport's own rights, not isolated: it can read and write every file toolport can, use the network, and leave processes behind; only its environment is limited to its grants";
    expect(check.stderr).toContain(`warning: plugins[0] ${skill}: ${warning}`);
    expect(check.stderr).toContain(`warning: plugins[1] ${plugin}: ${warning}`);
    const call = await runCli(['call', 'skill__noop', '{}', '--config', config, '--log-level', 'warn'], noBwrap);
    expect(call.stdout.trim()).toBe('ok');
    // One-shot commands print each load problem and warning once (not as a log line too).
    expect(call.stderr).toContain(`warning: plugins[0] ${skill}: ${warning}`);
  });
});

describe('a bubblewrap that cannot make a sandbox', () => {
  it('refuses a Python plugin with bwrap\'s own words, before the plugin is imported, and stops the host started meanwhile', async () => {
    // The host starts while bwrap's first run (of `true`) checks that it works. This bwrap
    // refuses that run, as one without user namespaces would, and runs anything else unsandboxed
    // (noting its pid), so a host it started would live on unless toolport stops it, and a
    // plugin it imported would run outside any sandbox.
    const bin = join(root.path, 'broken-bwrap');
    const hosts = join(root.path, 'broken-bwrap-hosts');
    const imported = 'marking-py-was-imported';
    await mkdir(bin, { recursive: true });
    await writeFile(
      join(bin, 'bwrap'),
      [
        '#!/bin/sh',
        'for last; do :; done',
        // Slow to refuse, so that a host started meanwhile would have imported the plugin by then.
        'case "$last" in */true) sleep 1; echo "bwrap: No permissions to create new namespace" >&2; exit 1;; esac',
        `echo $$ >> '${hosts}'`,
        'while [ "$1" != "--" ]; do shift; done; shift',
        'exec "$@"',
        '',
      ].join('\n'),
    );
    await chmod(join(bin, 'bwrap'), 0o755);
    // Its import alone leaves a mark in the log (its stderr is logged; writing a file would be refused by the host's file guard).
    await mkdir(join(root.path, 'marking'), { recursive: true });
    const marking = join(root.path, 'marking', 'marking.py');
    await writeFile(marking, `import sys\nsys.stderr.write(${JSON.stringify(`${imported}\n`)})\n`);
    const config = await writeConfig('broken-bwrap.json', [{ path: marking, python }]);
    const env = { PATH: `${bin}:${process.env.PATH ?? ''}` };
    const refusal = `plugins[0] ${marking}: bubblewrap (${join(bin, 'bwrap')}) cannot create a sandbox here (No permissions to create new namespace); toolport runs Python plugins inside it`;
    const started = async (): Promise<number[]> => (await readFile(hosts, 'utf8').catch(() => '')).split('\n').filter(Boolean).map(Number);

    const { code, stdout, stderr } = await runCli(['check', '--config', config], env);
    expect(code).toBe(1);
    expect(stdout).toBe('1 error; 0 tools usable\n');
    expect(stderr).toContain(`error: ${refusal}`);

    // A server goes on running without the plugin: the host it started must be gone while it does.
    await rm(hosts, { force: true });
    const server = spawn(process.execPath, [binPath, 'serve', '--config', config, '--stdio', '--log-level', 'info'], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    try {
      let log = '';
      server.stderr.setEncoding('utf8').on('data', (chunk: string) => (log += chunk));
      await expect.poll(() => log, { timeout: 15_000 }).toContain('"msg":"plugins loaded"');
      expect(log).toContain(refusal);
      // The host was started (before bwrap's answer), and is stopped.
      await expect.poll(started, { timeout: 5_000 }).not.toEqual([]);
      await expect.poll(async () => (await started()).filter(isAlive), { timeout: 5_000 }).toEqual([]);
      expect(server.exitCode).toBeNull();
      // The plugin was never imported.
      expect(log).not.toContain(imported);
    } finally {
      server.kill();
    }
  });
});
