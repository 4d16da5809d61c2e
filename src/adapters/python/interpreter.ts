// What the sandbox must show of a Python interpreter: the real program (a pyenv shim or a
// wrapper script would not run inside) and its installation folders (prefix, base prefix:
// the standard library and site-packages). Asked once per interpreter, outside the sandbox,
// with -I -S so that no site hook or environment variable runs anything but the question.
//
// Asking starts the interpreter, which behind a version manager's shim (pyenv) costs ~0.3 s of
// every start. So the answer is kept in the cache folder, keyed by the name, PATH, the working
// folder and the program PATH finds (its inode, size and times); a start with a kept answer uses
// it at once and asks again a second later. Should the fresh answer differ (a shim now pointing at
// another version), it is kept for next time and reported, so the plugin restarts its host.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findOnPath } from '../../core/file-paths.js';
import { writeFileAtomic } from '../../core/files.js';

export interface Interpreter {
  /** The program to run inside the sandbox (sys.executable). */
  readonly executable: string;
  /** Folders it reads its libraries from: sys.prefix, exec_prefix and their base_ versions. */
  readonly folders: readonly string[];
}

const question = 'import json, sys; print(json.dumps({"executable": sys.executable, "folders": sorted(set([sys.prefix, sys.exec_prefix, getattr(sys, "base_prefix", sys.prefix), getattr(sys, "base_exec_prefix", sys.exec_prefix)]))}))';

const asked = new Map<string, Promise<Interpreter>>();

function ask(python: string): Promise<Interpreter> {
  return new Promise((resolve, reject) => {
    execFile(python, ['-I', '-S', '-c', question], { timeout: 10_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }, (error, stdout) => {
      if (error) {
        // Keeps `code` (ENOENT: not installed) for the message.
        reject(Object.assign(new Error(error.message, { cause: error }), { code: error.code }));
        return;
      }
      try {
        const answer = JSON.parse(stdout) as { executable?: unknown; folders?: unknown };
        const folders = Array.isArray(answer.folders) ? answer.folders.filter((folder): folder is string => typeof folder === 'string' && folder.startsWith('/')) : [];
        const executable = typeof answer.executable === 'string' && answer.executable.startsWith('/') ? answer.executable : python;
        resolve({ executable, folders });
      } catch (cause) {
        reject(new Error(`it answered ${JSON.stringify(stdout.slice(0, 200))}`, { cause }));
      }
    });
  });
}

/** The interpreter `python` names (a path, or a name on PATH); asked once per process. */
export function askInterpreter(python: string): Promise<Interpreter> {
  let answer = asked.get(python);
  if (!answer) {
    answer = ask(python);
    asked.set(python, answer);
    // A failure is not kept: the next load asks again (the interpreter may be installed by then).
    answer.catch(() => asked.delete(python));
  }
  return answer;
}

export interface KnownInterpreter {
  readonly interpreter: Interpreter;
  /**
   * Set when `interpreter` is the answer kept from an earlier start: resolves with the fresh
   * answer if it differs (the kept one was stale), else with undefined.
   */
  readonly changed?: Promise<Interpreter | undefined>;
}

/** Changes whenever what is kept, or how it is keyed, changes. */
const cacheFormat = 1;
/** How long after a start that used a kept answer the interpreter is asked again. */
const recheckAfterMs = 1_000;

/** The interpreter `python` names: the answer kept from an earlier start when there is one, else asked. */
export async function loadInterpreter(python: string, cacheDir?: string): Promise<KnownInterpreter> {
  let file: string | undefined;
  try {
    file = cacheDir === undefined ? undefined : cacheFileOf(python, cacheDir);
  } catch {
    // Nothing kept can be found (the working folder is gone, say): the interpreter is asked.
    file = undefined;
  }
  const kept = file === undefined ? undefined : readKept(file);
  const keep = (fresh: Interpreter): void => {
    if (file !== undefined && !sameInterpreter(fresh, kept)) void writeFileAtomic(file, JSON.stringify(fresh)).catch(() => {});
  };
  if (!kept) {
    const fresh = await askInterpreter(python);
    keep(fresh);
    return { interpreter: fresh };
  }
  // Asked again once the start is over, so the question does not compete with it for the CPU
  // (a shim is a shell script); a process that ends sooner (a one-shot command) does not ask.
  const asking = new Promise<void>((resolve) => setTimeout(resolve, recheckAfterMs).unref()).then(() => askInterpreter(python));
  const changed = asking.then(
    (fresh) => {
      keep(fresh);
      return sameInterpreter(fresh, kept) ? undefined : fresh;
    },
    // The kept answer stays in use; starting the host will say what is wrong, if anything.
    () => undefined,
  );
  return { interpreter: kept, changed };
}

function sameInterpreter(a: Interpreter, b: Interpreter | undefined): boolean {
  return b !== undefined && a.executable === b.executable && a.folders.join('\0') === b.folders.join('\0');
}

// The kept answer is found and read synchronously (a stat and a small file, read at load), for
// the reason file-paths.ts gives.
function cacheFileOf(python: string, cacheDir: string): string | undefined {
  const searchPath = process.env.PATH ?? '/usr/bin:/bin';
  const program = python.includes('/') ? resolve(python) : findOnPath(python, searchPath);
  if (program === undefined) return undefined;
  const info = statSync(program, { throwIfNoEntry: false });
  if (!info) return undefined;
  const key = createHash('sha256')
    .update(JSON.stringify([cacheFormat, python, searchPath, process.cwd(), program, info.dev, info.ino, info.size, info.mtimeMs, info.ctimeMs]))
    .digest('hex')
    .slice(0, 32);
  return join(cacheDir, 'python', `interpreter-${key}.json`);
}

function readKept(file: string): Interpreter | undefined {
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as { executable?: unknown; folders?: unknown };
    if (typeof kept.executable !== 'string' || !kept.executable.startsWith('/')) return undefined;
    if (!Array.isArray(kept.folders) || !kept.folders.every((folder) => typeof folder === 'string' && folder.startsWith('/'))) return undefined;
    // A kept program that is gone (uninstalled) is not used: the question says what is there now.
    if (!statSync(kept.executable).isFile()) return undefined;
    return { executable: kept.executable, folders: kept.folders as string[] };
  } catch {
    return undefined;
  }
}
