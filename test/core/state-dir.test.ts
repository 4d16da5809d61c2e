// Per-user state: the folders toolport keeps keys, data and caches in are its user's own
// (0700); a folder another user owns, or one group or others may write, is refused before
// anything is read from it; and a cached transpiled component is used only while its files
// are as recorded when it was made (device, inode, size and times; hashes for a file not seen).
import { execFile } from 'node:child_process';
import { appendFile, chmod, chown, copyFile, mkdir, readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadCachedComponent, loadCachedComponentFile } from '../../src/adapters/wasm/cache.js';
import { toStateDirs } from '../../src/core/state-dir.js';
import { buildWatFixture } from '../fixtures/wasm/build.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { bwrapWorks } from '../helpers/sandbox.js';
import { binPath } from '../helpers/toolport-process.js';

const run = promisify(execFile);
const notebook = fileURLToPath(new URL('../../examples/notebook.mjs', import.meta.url));
const isRoot = process.getuid?.() === 0;

const scratch = useTempDir('toolport-state-', 'all');

/** `toolport check` with a clean environment but for the given variables. */
async function check(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [binPath, 'check', ...args], { env: { PATH: process.env.PATH ?? '', HOME: join(scratch.path, 'home'), ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

describe('state folders', () => {
  it('are $XDG_STATE_HOME/toolport and $XDG_CACHE_HOME/toolport by default, created 0700', async () => {
    const env = { XDG_STATE_HOME: join(scratch.path, 'xdg-state'), XDG_CACHE_HOME: join(scratch.path, 'xdg-cache') };
    expect(toStateDirs(undefined, env)).toEqual({ state: join(scratch.path, 'xdg-state', 'toolport'), cache: join(scratch.path, 'xdg-cache', 'toolport') });
    expect(toStateDirs(undefined, { HOME: '/home/ada' })).toEqual({ state: '/home/ada/.local/state/toolport', cache: '/home/ada/.cache/toolport' });
    const result = await check([notebook], env);
    expect(result.code).toBe(0);
    for (const folder of [join(scratch.path, 'xdg-state', 'toolport'), join(scratch.path, 'xdg-cache', 'toolport')]) {
      expect(((await stat(folder)).mode & 0o777).toString(8)).toBe('700');
    }
  });

  it('the config key stateDir, else TOOLPORT_STATE_DIR, chooses another folder (caches in its cache folder)', async () => {
    expect(toStateDirs(undefined, { TOOLPORT_STATE_DIR: '/srv/tp' })).toEqual({ state: '/srv/tp', cache: '/srv/tp/cache' });
    expect(toStateDirs('/etc/tp-config', { TOOLPORT_STATE_DIR: '/srv/tp' })).toEqual({ state: '/etc/tp-config', cache: '/etc/tp-config/cache' });
    const chosen = join(scratch.path, 'by-env');
    expect((await check([notebook], { TOOLPORT_STATE_DIR: chosen })).code).toBe(0);
    expect(((await stat(join(chosen, 'cache'))).mode & 0o777).toString(8)).toBe('700');
  });

  it('with TOOLPORT_STATE_DIR, TOOLPORT_CACHE_DIR puts the caches (transpiled components, Python load and interpreter answers, validators) elsewhere', async () => {
    const { wasm } = await buildWatFixture('contract');
    const python = fileURLToPath(new URL('../fixtures/python/contract.py', import.meta.url));
    const config = join(scratch.path, 'cache-dir.yaml');
    await writeFile(config, ['plugins:', `  - path: ${wasm}`, `  - path: ${python}`, ...(bwrapWorks ? [] : ['    sandbox: "off"'])].join('\n') + '\n');
    const state = join(scratch.path, 'cache-dir-state');
    const cache = join(scratch.path, 'cache-dir-elsewhere');
    const result = await check(['--config', config], { TOOLPORT_STATE_DIR: state, TOOLPORT_CACHE_DIR: cache });
    expect(result.code, result.stderr).toBe(0);
    expect(((await stat(cache)).mode & 0o777).toString(8)).toBe('700');
    expect((await readdir(join(cache, 'wasm'))).filter((name) => !name.startsWith('.') && name !== 'by-file')).toHaveLength(1);
    const pythonFiles = (await readdir(join(cache, 'python'))).filter((name) => name.endsWith('.json'));
    // The plugin's load answer, and the interpreter's answer (only with the sandbox: it is asked for the binds).
    expect(pythonFiles.filter((name) => !name.startsWith('interpreter-'))).toHaveLength(1);
    expect(pythonFiles.filter((name) => name.startsWith('interpreter-'))).toHaveLength(bwrapWorks ? 1 : 0);
    // The validation code compiled from the tools' schemas.
    expect((await readdir(join(cache, 'validators'))).filter((name) => name.endsWith('.cjs')).length).toBeGreaterThan(0);
    // Nothing of them beside the state.
    await expect(stat(join(state, 'cache'))).rejects.toThrow(/ENOENT/);
    expect(await readdir(state)).not.toContain('wasm');
    expect(await readdir(state)).not.toContain('python');
    expect(await readdir(state)).not.toContain('validators');
  }, 60_000);

  it('a folder group or others may write is refused, naming it and the fix', async () => {
    const open = join(scratch.path, 'world-writable');
    await mkdir(open);
    await chmod(open, 0o777);
    const result = await check([notebook], { TOOLPORT_STATE_DIR: open });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`refusing the state folder ${open}: group or others may write to it (mode 777; chmod 700 it)`);
  });

  it.skipIf(!isRoot)('a folder another user owns is refused (needs root to make one)', async () => {
    const foreign = join(scratch.path, 'foreign');
    await mkdir(foreign, { mode: 0o700 });
    await chown(foreign, 65534, 65534);
    const config = join(scratch.path, 'foreign.yaml');
    await writeFile(config, `stateDir: ./foreign\nplugins:\n  - path: ${notebook}\n`);
    const result = await check(['--config', config], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`refusing the state folder ${foreign}: it belongs to user id 65534, not to the user toolport runs as (0)`);
  });
});

describe('the wasm transpile cache', () => {
  it('does not run a cached entry whose code changed on disk: it is made again', async () => {
    const { wasm } = await buildWatFixture('contract');
    const bytes = await readFile(wasm);
    const cacheDir = join(scratch.path, 'wasm-cache');
    const first = await loadCachedComponent(bytes, cacheDir);
    expect(first.hit).toBe(false);
    expect((await loadCachedComponent(bytes, cacheDir)).hit).toBe(true);
    // Someone who can write the cache swaps in code of their own.
    await appendFile(join(first.dir, first.meta.entry), '\nglobalThis.planted = true;\n');
    const again = await loadCachedComponent(bytes, cacheDir);
    expect(again.hit).toBe(false);
    expect(await readFile(join(again.dir, again.meta.entry), 'utf8')).not.toContain('planted');
  });

  it('a component file seen before is not read again; one replaced on disk is, even with its old times', async () => {
    const contract = await buildWatFixture('contract');
    const other = await buildWatFixture('scalars');
    const cacheDir = join(scratch.path, 'file-cache');
    const component = join(scratch.path, 'plugin.wasm');
    await copyFile(contract.wasm, component);
    let reads = 0;
    const read = async (): Promise<Uint8Array> => {
      reads += 1;
      return readFile(component);
    };
    const first = await loadCachedComponentFile(component, cacheDir, read);
    expect(reads).toBe(1);
    const second = await loadCachedComponentFile(component, cacheDir, read);
    expect(second).toMatchObject({ hit: true, dir: first.dir });
    expect(reads).toBe(1);
    // Another component put in its place, its modification time set back to the old one.
    const before = await stat(component);
    await copyFile(other.wasm, component);
    await utimes(component, before.atime, before.mtime);
    const third = await loadCachedComponentFile(component, cacheDir, read);
    expect(reads).toBe(2);
    expect(third.dir).not.toBe(first.dir);
    expect(third.meta.sha256).toBe((await loadCachedComponent(await readFile(other.wasm), cacheDir)).meta.sha256);
  });
});

