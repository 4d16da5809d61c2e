// The Python interpreter's answer is kept in the cache folder across starts, keyed by the name,
// PATH, the working folder and the program PATH finds: the same setting reuses it, another
// program under the same name does not. With a real python3.
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { askInterpreter, loadInterpreter } from '../../../src/adapters/python/interpreter.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const dir = useTempDir('toolport-interpreter-', 'all');

const kept = async (cacheDir: string): Promise<string[]> => (await readdir(join(cacheDir, 'python')).catch(() => [])).filter((name) => name.startsWith('interpreter-'));

describe('the kept interpreter answer', () => {
  it('is asked and kept the first time, reused the next; another program under the same name on PATH is asked again', async () => {
    const cacheDir = join(dir.path, 'cache');
    const first = await loadInterpreter('python3', cacheDir);
    expect(first.changed).toBeUndefined();
    expect(first.interpreter).toEqual(await askInterpreter('python3'));
    await expect.poll(() => kept(cacheDir)).toHaveLength(1);

    const second = await loadInterpreter('python3', cacheDir);
    expect(second.changed).toBeDefined();
    expect(second.interpreter).toEqual(first.interpreter);

    // A python3 of its own earlier on PATH (a link to the same interpreter, but another file).
    const bin = join(dir.path, 'bin');
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
