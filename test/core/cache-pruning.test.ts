// Cache pruning on real files: entries unused (neither read nor written) for 30 days go, the
// others stay, a wasm component's folder counts as used when any file in it is, and the cache
// is pruned at most once a day.
import { mkdir, readdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pruneCache } from '../../src/core/cache-pruning.js';
import { useTempDir } from '../helpers/temp-dir.js';

const day = 24 * 60 * 60 * 1000;
const now = Date.now();
const cache = useTempDir('toolport-prune-');


/** Writes `path` under the cache, last read and written `daysAgo` days ago. */
async function entry(path: string, daysAgo: number): Promise<void> {
  const file = join(cache.path, path);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, 'x');
  const at = (now - daysAgo * day) / 1000;
  await utimes(file, at, at);
}

async function aged(path: string, daysAgo: number): Promise<void> {
  const at = (now - daysAgo * day) / 1000;
  await utimes(join(cache.path, path), at, at);
}

const list = async (folder: string): Promise<string[]> => (await readdir(join(cache.path, folder)).catch(() => [])).sort();

describe('pruneCache', () => {
  it('removes what nobody used for 30 days, in every cache folder, and keeps the rest', async () => {
    await entry('catalogue/old.json', 40);
    await entry('catalogue/fresh.json', 2);
    await entry('python/old.json', 31);
    await entry('python/interpreter-recent.json', 29);
    await entry('validators/old.cjs', 90);
    await entry('early-hosts/old.json', 45);
    await entry('wasm/by-file/old.json', 60);
    await entry('wasm/by-file/fresh.json', 1);
    // A component's folder: one file still used keeps it all; an all-old one goes.
    await entry('wasm/kept-f3/component.js', 50);
    await entry('wasm/kept-f3/meta.json', 3);
    await entry('wasm/stale-f2/component.js', 50);
    await entry('wasm/stale-f2/meta.json', 50);
    await aged('wasm/kept-f3', 50);
    await aged('wasm/stale-f2', 50);
    // Not toolport's folders, and a link: left alone.
    await entry('elsewhere/old.txt', 400);
    await symlink(join(cache.path, 'elsewhere', 'old.txt'), join(cache.path, 'catalogue', 'link.json'));

    const result = await pruneCache(cache.path, { now });
    expect(result).toEqual({ ran: true, removed: 6 });
    expect(await list('catalogue')).toEqual(['fresh.json', 'link.json']);
    expect(await list('python')).toEqual(['interpreter-recent.json']);
    expect(await list('validators')).toEqual([]);
    expect(await list('early-hosts')).toEqual([]);
    expect(await list('wasm')).toEqual(['by-file', 'kept-f3']);
    expect(await list('wasm/by-file')).toEqual(['fresh.json']);
    expect(await list('elsewhere')).toEqual(['old.txt']);
  });

  it('runs at most once a day', async () => {
    await entry('catalogue/old.json', 40);
    expect((await pruneCache(cache.path, { now })).ran).toBe(true);
    await entry('catalogue/old-again.json', 40);
    expect(await pruneCache(cache.path, { now: now + day / 2 })).toEqual({ ran: false, removed: 0 });
    expect(await list('catalogue')).toEqual(['old-again.json']);
    expect(await pruneCache(cache.path, { now: now + day + 1 })).toEqual({ ran: true, removed: 1 });
  });

  it("does not count its own listing of a component's folder as a use", async () => {
    await entry('wasm/component-f3/component.js', 40);
    await aged('wasm/component-f3', 40);
    expect(await pruneCache(cache.path, { now, unusedFor: 60 * day })).toEqual({ ran: true, removed: 0 });
    // 25 days on, its files are 65 days old: the listing a moment ago does not keep it.
    expect(await pruneCache(cache.path, { now: now + 25 * day, unusedFor: 60 * day })).toEqual({ ran: true, removed: 1 });
    expect(await list('wasm')).toEqual([]);
  });
});
