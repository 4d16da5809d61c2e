// What the sandbox must show of a Python interpreter: the real program (a pyenv shim or a
// wrapper script would not run inside) and its installation folders (prefix, base prefix:
// the standard library and site-packages). Asked once per interpreter, outside the sandbox,
// with -I -S so that no site hook or environment variable runs anything but the question.
import { execFile } from 'node:child_process';

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
export function loadInterpreter(python: string): Promise<Interpreter> {
  let answer = asked.get(python);
  if (!answer) {
    answer = ask(python);
    asked.set(python, answer);
    // A failure is not kept: the next load asks again (the interpreter may be installed by then).
    answer.catch(() => asked.delete(python));
  }
  return answer;
}
