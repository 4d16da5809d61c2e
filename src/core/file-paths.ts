// Paths and programs: whether a path is inside a folder, whether a path is an executable
// file, and the first executable of a name on PATH (relative PATH entries skipped, as Go's
// LookPath does).
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, relative, sep } from 'node:path';

/** Whether `path` is `folder` or inside it (both absolute; by name, symlinks not followed). */
export function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

export type ExecutableCheck = 'ok' | 'missing' | 'not-a-file' | 'not-executable';

export async function checkExecutable(path: string): Promise<ExecutableCheck> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return 'missing';
  }
  if (!info.isFile()) return 'not-a-file';
  try {
    await access(path, constants.X_OK);
    return 'ok';
  } catch {
    return 'not-executable';
  }
}

/** The first executable `name` in PATH. */
export async function findOnPath(name: string, path: string | undefined): Promise<string | undefined> {
  for (const folder of (path ?? '').split(delimiter)) {
    if (folder === '' || !isAbsolute(folder)) continue;
    const candidate = join(folder, name);
    if ((await checkExecutable(candidate)) === 'ok') return candidate;
  }
  return undefined;
}
