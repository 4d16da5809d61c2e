// What toolport caches (the kept catalogue, the Python load answers and interpreter answers,
// compiled validators, transpiled wasm components, early-host notes) is made again when it is
// missing, and each kind gains entries as plugins, configs and toolport versions change. So a
// serving toolport removes, at most once a day, the entries nobody read or wrote for 30 days.
// "Read" is the file system's access time, which Linux's default (relatime) updates about once a
// day; where reads are not recorded (noatime), an entry in use is made again once a month.
import { lstat, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The cache's folders whose entries (files, or a wasm component's folder) are pruned. */
const prunedFolders = ['catalogue', 'early-hosts', 'python', 'validators', 'wasm', join('wasm', 'by-file')] as const;
const dayMs = 24 * 60 * 60 * 1000;
export const unusedForMs = 30 * dayMs;
/** Says when the cache was last pruned (its modification time). */
const stampName = '.pruned';
/** A wasm component's folder is judged by at most this many of its files. */
const maxFilesPerEntry = 200;

export interface PruneResult {
  /** False when the cache was pruned less than a day ago. */
  readonly ran: boolean;
  readonly removed: number;
}

/** The latest use of a file or folder (the newest access or change of it or, for a folder, of what it holds). */
async function lastUse(path: string, budget: { files: number }): Promise<number | undefined> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return undefined;
  if (!info.isDirectory()) return info.isFile() ? Math.max(info.atimeMs, info.mtimeMs) : undefined;
  // A folder's access time says when it was last listed, which pruning itself does: its
  // files' times are what count.
  let latest = info.mtimeMs;
  const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    // Too much to judge: taken as in use.
    if (budget.files <= 0) return Number.POSITIVE_INFINITY;
    budget.files -= 1;
    const inner = await lastUse(join(path, entry.name), budget);
    if (inner !== undefined) latest = Math.max(latest, inner);
  }
  return latest;
}

/**
 * Removes the cache entries unused for `unusedFor` (default 30 days), unless the cache was
 * pruned less than a day ago. Symbolic links and unknown folders are left alone.
 */
export async function pruneCache(cacheDir: string, options: { now?: number; unusedFor?: number } = {}): Promise<PruneResult> {
  const now = options.now ?? Date.now();
  const unusedFor = options.unusedFor ?? unusedForMs;
  const stamp = join(cacheDir, stampName);
  const last = await lstat(stamp).catch(() => undefined);
  if (last?.isFile() && now - last.mtimeMs < dayMs) return { ran: false, removed: 0 };
  await writeFile(stamp, '', { mode: 0o600 });
  await utimes(stamp, now / 1000, now / 1000);
  let removed = 0;
  for (const name of prunedFolders) {
    const folder = join(cacheDir, name);
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      // wasm/by-file is a folder of its own, pruned entry by entry.
      if (name === 'wasm' && entry.name === 'by-file') continue;
      if (!entry.isFile() && !entry.isDirectory()) continue;
      const path = join(folder, entry.name);
      const used = await lastUse(path, { files: maxFilesPerEntry });
      if (used === undefined || now - used <= unusedFor) continue;
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
  }
  return { ran: true, removed };
}
