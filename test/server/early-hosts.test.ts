// Early hosts: `toolport serve` notes the Python hosts of plugins that give instructions, and
// the next start with the same command line starts them from bin/toolport.js before its bundle
// loads. A plugin takes such a host only if it would start it exactly so now. Real stdio
// servers (the built CLI), an SDK client, a real Python host in bubblewrap.
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { binPath, repoRoot } from '../helpers/toolport-process.js';
import { childrenOf, waitFor } from '../helpers/processes.js';
import { bwrapWorks, needsBwrap } from '../helpers/sandbox.js';

// Says in its instructions whether EARLY_TOKEN is in its environment.
const plugin = `
import os
import time
from app.plugins.base import BasePlugin
from app.plugins.protocol import PluginManifest, ToolDefinition

# A slow import when asked (the test of a start that ends while the plugin loads).
if os.environ.get("EARLY_TOKEN") == "slow":
    time.sleep(1.5)


class Sees(BasePlugin):
    @property
    def manifest(self) -> PluginManifest:
        return PluginManifest(
            id="test.sees",
            name="Sees",
            version="1.0.0",
            description="Tells what it sees.",
            injects_context=True,
            tools=[ToolDefinition(name="ping", description="Answers pong.", parameters={"type": "object", "properties": {}})],
        )

    async def get_system_context(self, ctx):
        # Not the value itself: toolport redacts a granted variable's value from what a plugin says.
        return "token: " + ("given" if os.environ.get("EARLY_TOKEN") else "none")

    async def execute_tool(self, tool_name, args, ctx):
        return "pong"
`;

const token = 'early-token-0b5e9d2c7a';
const dir = useTempDir('toolport-early-');

beforeEach(async () => {
  await writeFile(join(dir.path, 'sees.py'), plugin);
});

const cacheDir = (): string => join(dir.path, 'cache');

async function configure(grantToken: boolean): Promise<void> {
  await writeFile(join(dir.path, 'toolport.yaml'), `plugins:\n  - path: ./sees.py\n${grantToken ? '    grants: { env: [EARLY_TOKEN] }\n' : ''}`);
}

interface Session {
  client: Client;
  pid: number;
  log: () => string;
}

/** `toolport serve` with the config in `dir`, or, with `lookFor`, the config it finds in `dir` (its working folder). */
async function start(extraEnv: Record<string, string> = {}, options: { lookFor?: boolean } = {}): Promise<Session> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binPath, 'serve', ...(options.lookFor ? [] : ['--config', join(dir.path, 'toolport.yaml')]), '--stdio', '--log-level', 'info'],
    cwd: options.lookFor ? dir.path : repoRoot,
    env: { ...(process.env as Record<string, string>), TOOLPORT_STATE_DIR: join(dir.path, 'state'), TOOLPORT_CACHE_DIR: cacheDir(), EARLY_TOKEN: token, ...extraEnv },
    stderr: 'pipe',
  });
  let log = '';
  transport.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')));
  const client = new Client({ name: 'early-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, pid: transport.pid ?? -1, log: () => log };
}

/** The log line saying the plugin's host is up, parsed. */
function hostLine(log: string): { early?: boolean } | undefined {
  const line = log.split('\n').find((text) => /"msg":"Python host (started|ready)"/.test(text));
  return line === undefined ? undefined : (JSON.parse(line) as { early?: boolean });
}

/** Runs `check` on a session of `toolport serve` (see start), closed afterwards. */
async function during(check: (session: Session) => void | Promise<void>, extraEnv: Record<string, string> = {}, options: { lookFor?: boolean } = {}): Promise<void> {
  const session = await start(extraEnv, options);
  try {
    await check(session);
  } finally {
    await session.client.close();
  }
}

/** Whether the session's plugin took a host started early, as its log says (within 5 s). */
async function tookEarlyHost(session: Session): Promise<boolean | undefined> {
  return hostLine(await waitFor(() => Promise.resolve(session.log()), (log) => hostLine(log) !== undefined, 5_000))?.early;
}

/**
 * A `python` for the config that counts its starts in `starts` (with `sandbox: off` it is the
 * program started). With `dieOnce`, while the file die-once is there, it removes it and starts
 * a Python that ends as soon as the load request arrives.
 */
async function countingPython(options: { dieOnce?: boolean } = {}): Promise<void> {
  const dieOnce = options.dieOnce
    ? `if [ -f "${dir.path}/die-once" ]; then rm "${dir.path}/die-once"; exec python3 -c 'import os; os.read(3, 1); raise SystemExit(3)'; fi\n`
    : '';
  await writeFile(join(dir.path, 'python-counting'), `#!/bin/sh\necho start >> "${dir.path}/starts"\n${dieOnce}exec python3 "$@"\n`, { mode: 0o755 });
}

/** How many times the counting python started. */
async function pythonStarts(): Promise<number> {
  return (await readFile(join(dir.path, 'starts'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
}

async function noteFiles(): Promise<string[]> {
  return readdir(join(cacheDir(), 'early-hosts')).catch(() => []);
}

async function firstStart(extraEnv: Record<string, string> = {}): Promise<void> {
  await during(async (first) => {
    expect(first.client.getInstructions()).toContain('token: given');
    expect(await waitFor(noteFiles, (files) => files.length === 1, 10_000)).toHaveLength(1);
  }, extraEnv);
}

describe.skipIf(!bwrapWorks)(`a Python plugin that gives instructions${needsBwrap}`, () => {
  it('gets the host started early at the next start, and the note holds no secret value', async () => {
    await configure(true);
    await firstStart();
    const [file] = await noteFiles();
    const note = await readFile(join(cacheDir(), 'early-hosts', file ?? ''), 'utf8');
    // The variable is named; its value is read from the environment at the next start.
    expect(note).toContain('"EARLY_TOKEN":null');
    expect(note).not.toContain(token);

    await during(async (second) => {
      expect(second.client.getInstructions()).toContain('token: given');
      const ping = (await second.client.listTools()).tools.find((tool) => tool.name.endsWith('ping'));
      expect((await second.client.callTool({ name: ping?.name ?? 'ping', arguments: {} })).content).toEqual([{ type: 'text', text: 'pong' }]);
      expect(await tookEarlyHost(second)).toBe(true);
    });
  });

  it('does not take a host whose environment differs from what the plugin would start now, and stops it', async () => {
    // The config reads the same, but which variable it grants comes from the environment.
    await writeFile(join(dir.path, 'toolport.yaml'), 'plugins:\n  - path: ./sees.py\n    grants: { env: ["${GRANTED_NAME}"] }\n');
    await firstStart({ GRANTED_NAME: 'EARLY_TOKEN' });
    // Now another variable is granted: bin/toolport.js starts the noted host, which has
    // EARLY_TOKEN. The plugin must start one of its own, without it.
    await during(async (second) => {
      expect(second.client.getInstructions()).toContain('token: none');
      expect(await tookEarlyHost(second)).toBe(false);
      // Within the claim window (10 s) the host nobody took is stopped: one child is left.
      expect(await waitFor(() => childrenOf(second.pid), (children) => children.length === 1, 15_000)).toHaveLength(1);
    }, { GRANTED_NAME: 'UNRELATED_VARIABLE', UNRELATED_VARIABLE: 'x' });
    // At the end the note says what this start kept: the host with UNRELATED_VARIABLE.
    const [file] = await noteFiles();
    const note = await readFile(join(cacheDir(), 'early-hosts', file ?? ''), 'utf8');
    expect(note).toContain('"UNRELATED_VARIABLE":null');
    expect(note).not.toContain('EARLY_TOKEN');
  }, 30_000);

  it('forgets the host of a plugin that no longer gives instructions', async () => {
    await configure(true);
    await firstStart();
    await writeFile(join(dir.path, 'sees.py'), plugin.replace('injects_context=True', 'injects_context=False'));
    await during((second) => {
      expect(second.client.getInstructions()).toBeUndefined();
    });
    expect(await waitFor(noteFiles, (files) => files.length === 0, 5_000)).toEqual([]);
  });

  it('reads no note that others may write', async () => {
    await configure(true);
    await firstStart();
    const [file] = await noteFiles();
    await chmod(join(cacheDir(), 'early-hosts', file ?? ''), 0o666);
    await during(async (second) => {
      expect(second.client.getInstructions()).toContain('token: given');
      expect(await tookEarlyHost(second)).toBe(false);
    });
  });
});

describe.skipIf(!bwrapWorks)(`a config with a stateDir of its own${needsBwrap}`, () => {
  it('gets no early hosts: nothing is noted in either cache folder', async () => {
    await writeFile(join(dir.path, 'toolport.yaml'), `stateDir: ./own-state\nplugins:\n  - path: ./sees.py\n`);
    for (let run = 0; run < 2; run += 1) {
      await during(async (session) => {
        expect(session.client.getInstructions()).toContain('token: none');
        expect(await tookEarlyHost(session)).toBe(false);
      });
    }
    expect(await noteFiles()).toEqual([]);
    expect(await readdir(join(dir.path, 'own-state', 'cache', 'early-hosts')).catch(() => [])).toEqual([]);
  });
});

// With `sandbox: off` the config's `python` is the program started: a wrapper that counts its
// starts shows whether bin/toolport.js started a host at all. Needs no bubblewrap.
describe('a config that changed since the note was made', () => {
  it('starts no host from it: the note is used only while the config file reads the same', async () => {
    await countingPython();
    const write = (grant: string): Promise<void> =>
      writeFile(join(dir.path, 'toolport.yaml'), `plugins:\n  - path: ./sees.py\n    python: ./python-counting\n    sandbox: off\n    grants: { env: [${grant}] }\n`);
    await write('EARLY_TOKEN');
    await firstStart();
    expect(await pythonStarts()).toBe(1);
    // Same config: the host started early is taken, none other is started.
    await during(async (same) => {
      expect(same.client.getInstructions()).toContain('token: given');
      expect(await tookEarlyHost(same)).toBe(true);
    });
    expect(await pythonStarts()).toBe(2);
    // The grant withdrawn: the noted host (with EARLY_TOKEN, outside any sandbox) must not start.
    await write('UNRELATED_VARIABLE');
    await during((changed) => {
      expect(changed.client.getInstructions()).toContain('token: none');
    });
    expect(await pythonStarts()).toBe(3);
  });

  it('starts none from a config found by looking once a file looked for before it exists', async () => {
    await countingPython();
    await writeFile(join(dir.path, 'toolport.json'), JSON.stringify({ plugins: [{ path: './sees.py', python: './python-counting', sandbox: 'off' }] }));
    const first = await start({}, { lookFor: true });
    await first.client.close();
    await during(async (second) => {
      expect(await tookEarlyHost(second)).toBe(true);
    }, {}, { lookFor: true });
    expect(await pythonStarts()).toBe(2);
    // toolport.yaml comes before toolport.json: it is the config now, and the note (made with
    // toolport.json, which reads the same) must not start its host.
    await writeFile(join(dir.path, 'toolport.yaml'), 'plugins:\n  - path: ./sees.py\n    sandbox: off\n');
    const third = await start({}, { lookFor: true });
    await third.client.close();
    expect(await pythonStarts()).toBe(2);
  });

  it('keeps the note when a start ends before its plugin decided anything', async () => {
    await configure(true);
    await firstStart();
    const before = await noteFiles();
    // The command line of start(), so the note applies.
    const child = spawn(process.execPath, [binPath, 'serve', '--config', join(dir.path, 'toolport.yaml'), '--stdio', '--log-level', 'info'], {
      cwd: repoRoot,
      // Its import now takes a while (the plugin file, the config and the kept catalogue's
      // record are unchanged): the start ends while the plugin loads in the host it took.
      env: { ...process.env, TOOLPORT_STATE_DIR: join(dir.path, 'state'), TOOLPORT_CACHE_DIR: cacheDir(), EARLY_TOKEN: 'slow' },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // Stopped once the plugin has taken its host (well within 0.8 s), before its import is over.
    await new Promise((resolve) => setTimeout(resolve, 800));
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await noteFiles()).toEqual(before);
    await during(async (again) => {
      expect(await tookEarlyHost(again)).toBe(true);
    });
  });

  it('replaces a host started early that ends when asked to load the plugin', async () => {
    await countingPython({ dieOnce: true });
    await writeFile(join(dir.path, 'toolport.yaml'), 'plugins:\n  - path: ./sees.py\n    python: ./python-counting\n    sandbox: off\n    grants: { env: [EARLY_TOKEN] }\n');
    await firstStart();
    await writeFile(join(dir.path, 'die-once'), '');
    await during(async (second) => {
      expect(second.client.getInstructions()).toContain('token: given');
      expect(await tookEarlyHost(second)).toBe(false);
    });
    // The first start's host, the one started early (which ended), and the one that replaced it.
    expect(await pythonStarts()).toBe(3);
  });
});

describe.skipIf(!bwrapWorks)(`bwrap's check of the sandbox, with a host started early${needsBwrap}`, () => {
  const realBwrap = spawnSync('sh', ['-c', 'command -v bwrap'], { encoding: 'utf8' }).stdout.trim();

  /**
   * A bwrap on PATH that notes each run of the sandbox check (its program is `true`) in
   * `checks` and passes everything to the real one; while the file `broken` exists, it fails
   * every run after a second, in the words of a bwrap without user namespaces, and while
   * `hangs` exists it never starts anything.
   */
  async function watchedBwrap(): Promise<Record<string, string>> {
    await mkdir(join(dir.path, 'bin'), { recursive: true });
    await writeFile(
      join(dir.path, 'bin', 'bwrap'),
      [
        '#!/bin/sh',
        'for last; do :; done',
        `case "$last" in */true) echo check >> "${dir.path}/checks";; esac`,
        `if [ -f "${dir.path}/broken" ]; then sleep 1; echo "bwrap: No permissions to create new namespace" >&2; exit 1; fi`,
        `if [ -f "${dir.path}/hangs" ]; then exec sleep 60; fi`,
        `exec ${realBwrap} "$@"`,
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    return { PATH: `${join(dir.path, 'bin')}:${process.env.PATH ?? ''}` };
  }
  const checks = async (): Promise<number> => (await readFile(join(dir.path, 'checks'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

  /** A first start through the watched bwrap, which notes the host; then, with `flag`, that bwrap broken or hanging. The PATH to start with. */
  async function notedThen(flag?: 'broken' | 'hangs'): Promise<Record<string, string>> {
    const path = await watchedBwrap();
    await configure(true);
    await firstStart(path);
    if (flag) await writeFile(join(dir.path, flag), '');
    return path;
  }

  /** The session's log, once it says that bwrap cannot make a sandbox (within `ms`). */
  const refusalIn = (session: Session, ms: number): Promise<string> =>
    waitFor(() => Promise.resolve(session.log()), (text) => text.includes('cannot create a sandbox here'), ms);

  it('is not run when the plugin takes a host started early: that host runs in the sandbox already', async () => {
    const path = await notedThen();
    expect(await checks()).toBe(1);
    await during(async (second) => {
      expect(second.client.getInstructions()).toContain('token: given');
      expect(await tookEarlyHost(second)).toBe(true);
    }, path);
    expect(await checks()).toBe(1);
  });

  it('still refuses the plugin in bwrap\'s own words when the sandbox stopped working since the note', async () => {
    const path = await notedThen('broken');
    await during(async (second) => {
      // The host started early fails, as does the one that replaces it; bwrap's check says why.
      expect(await refusalIn(second, 15_000)).toContain(`bubblewrap (${join(dir.path, 'bin', 'bwrap')}) cannot create a sandbox here (No permissions to create new namespace)`);
      expect(second.client.getInstructions()).toBeUndefined();
      expect((await second.client.listTools()).tools).toEqual([]);
    }, path);
  }, 30_000);

  it('is run after all when the load in a host started early does not answer, and a refusal says so', async () => {
    const path = await notedThen('hangs');
    await during(async (second) => {
      // Not "did not load within 30 s": bwrap's check (which hangs too, and is stopped after 5 s) speaks.
      const log = await refusalIn(second, 20_000);
      expect(log).toContain(`bubblewrap (${join(dir.path, 'bin', 'bwrap')}) cannot create a sandbox here`);
      expect(log).not.toContain('did not load within');
    }, path);
  }, 40_000);
});
