// Paths and programs: whether a path is inside a folder, whether a path is an executable
// file, and the first executable of a name on PATH (relative PATH entries skipped, as Go's
// LookPath does). Synchronous: a few stat calls at load, microseconds each; awaited one by
// one, each waited for the main thread, busy loading the other plugins at start.
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative, sep } from 'node:path';

/** Whether `path` is `folder` or inside it (both absolute; by name, symlinks not followed). */
export function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

export type ExecutableCheck = 'ok' | 'missing' | 'not-a-file' | 'not-executable';

export function checkExecutable(path: string): ExecutableCheck {
  let info;
  try {
    info = statSync(path);
  } catch {
    return 'missing';
  }
  if (!info.isFile()) return 'not-a-file';
  try {
    accessSync(path, constants.X_OK);
    return 'ok';
  } catch {
    return 'not-executable';
  }
}

/** The first executable `name` in PATH. */
export function findOnPath(name: string, path: string | undefined): string | undefined {
  for (const folder of (path ?? '').split(delimiter)) {
    if (folder === '' || !isAbsolute(folder)) continue;
    const candidate = join(folder, name);
    if (checkExecutable(candidate) === 'ok') return candidate;
  }
  return undefined;
}
