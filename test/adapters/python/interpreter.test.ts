// The Python interpreter's answer is kept in the cache folder across starts, keyed by the name,
// PATH, the working folder and the program PATH finds: the same setting reuses it, another
// program under the same name does not. With a real python3.
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askInterpreter, loadInterpreter } from '../../../src/adapters/python/interpreter.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toolport-interpreter-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const kept = async (cacheDir: string): Promise<string[]> => (await readdir(join(cacheDir, 'python')).catch(() => [])).filter((name) => name.startsWith('interpreter-'));

describe('the kept interpreter answer', () => {
  it('is asked and kept the first time, reused the next; another program under the same name on PATH is asked again', async () => {
    const cacheDir = join(dir, 'cache');
    const first = await loadInterpreter('python3', cacheDir);
    expect(first.changed).toBeUndefined();
    expect(first.interpreter).toEqual(await askInterpreter('python3'));
    await expect.poll(() => kept(cacheDir)).toHaveLength(1);

    const second = await loadInterpreter('python3', cacheDir);
    expect(second.changed).toBeDefined();
    expect(second.interpreter).toEqual(first.interpreter);

    // A python3 of its own earlier on PATH (a link to the same interpreter, but another file).
    const bin = join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    await symlink(first.interpreter.executable, join(bin, 'python3'));
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ''}`;
    try {
      const other = await loadInterpreter('python3', cacheDir);
      expect(other.changed).toBeUndefined();
    } finally {
      process.env.PATH = path;
    }
    await expect.poll(() => kept(cacheDir)).toHaveLength(2);
  }, 20_000);
});
