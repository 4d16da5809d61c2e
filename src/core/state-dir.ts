// Where toolport keeps state (keys, plugin data) and caches (transpiled components, load
// answers): per user, in folders only that user can write. A folder another user owns, or
// one group or others may write, is refused: whoever controls it controls code toolport runs.
import { lstat, mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCode, ToolportError } from './errors.js';

export interface StateDirs {
  /** Keys and plugin data: `$XDG_STATE_HOME/toolport`, or the configured folder. */
  readonly state: string;
  /** What can be made again: `$XDG_CACHE_HOME/toolport`, or `cache` in the configured folder. */
  readonly cache: string;
}

/**
 * The folders to use: an explicit `stateDir` (the embedding code's, the config's) holds
 * both, with caches in its `cache` folder; otherwise TOOLPORT_STATE_DIR, else the XDG state
 * folder, with caches in TOOLPORT_CACHE_DIR when set, else beside the state (from
 * TOOLPORT_STATE_DIR) or in the XDG cache folder.
 */
export function toStateDirs(explicit: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): StateDirs {
  if (explicit !== undefined) {
    const state = resolve(explicit);
    return { state, cache: join(state, 'cache') };
  }
  const cacheOverride = env.TOOLPORT_CACHE_DIR ? resolve(env.TOOLPORT_CACHE_DIR) : undefined;
  if (env.TOOLPORT_STATE_DIR) {
    const state = resolve(env.TOOLPORT_STATE_DIR);
    return { state, cache: cacheOverride ?? join(state, 'cache') };
  }
  const home = env.HOME || homedir();
  const stateHome = env.XDG_STATE_HOME || join(home, '.local', 'state');
  const cacheHome = env.XDG_CACHE_HOME || join(home, '.cache');
  return { state: join(stateHome, 'toolport'), cache: cacheOverride ?? join(cacheHome, 'toolport') };
}

/** Why a file or folder is not this user's alone (another owner, or group or others may write it); undefined when it is. */
export function whyNotPrivate(info: { readonly uid: number; readonly mode: number }): string | undefined {
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) return `it belongs to user id ${info.uid}, not to the user toolport runs as (${uid})`;
  if ((info.mode & 0o022) !== 0) return `group or others may write to it (mode ${(info.mode & 0o777).toString(8)}; chmod 700 it)`;
  return undefined;
}

/** Creates `path` (mode 0700) if missing, and refuses it unless this user owns it and nobody else may write it. */
export async function assertPrivateDir(path: string, what: string): Promise<void> {
  const refuse = (why: string, cause?: unknown): never => {
    throw new ToolportError(ErrorCode.ConfigInvalid, `refusing the ${what} ${path}: ${why} (set stateDir or TOOLPORT_STATE_DIR to a folder of your own)`, { cause });
  };
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
  } catch (error) {
    refuse(`it cannot be created (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
  }
  const info = await lstat(path);
  if (!info.isDirectory()) refuse('it is not a folder (a symbolic link is not accepted either)');
  const problem = whyNotPrivate(info);
  if (problem !== undefined) refuse(problem);
}
