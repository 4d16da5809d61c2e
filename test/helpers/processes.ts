// Finding processes from outside any sandbox (Linux /proc, the host's PID namespace): by a
// marker in their command line, or by their working folder (every process a plugin starts
// inherits it, bwrap and its init too), and waiting until a probe is satisfied.
import { readFile, readdir, readlink } from 'node:fs/promises';

export interface ProcessEntry {
  readonly pid: number;
  readonly ppid: number;
  /** The program as started (argv[0]). */
  readonly program: string;
  /** argv joined with spaces. */
  readonly cmdline: string;
  readonly cwd: string;
}

/** Every process of this machine that is not a zombie. */
export async function listProcesses(): Promise<ProcessEntry[]> {
  const entries: ProcessEntry[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name: state, ppid, ...
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' || state === 'X') continue;
      const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0');
      const cwd = await readlink(`/proc/${name}/cwd`).catch(() => '');
      entries.push({ pid: Number(name), ppid: Number(ppid), program: argv[0] ?? '', cmdline: argv.join(' '), cwd });
    } catch {
      // Gone while we looked.
    }
  }
  return entries;
}

/** Live processes whose command line contains `marker`, except this test's own. */
export async function pidsWithMarker(marker: string): Promise<number[]> {
  return (await listProcesses()).filter((entry) => entry.cmdline.includes(marker) && entry.pid !== process.pid).map((entry) => entry.pid);
}

/** Live processes whose working folder is `dir` or inside it. */
export async function pidsInFolder(dir: string): Promise<number[]> {
  return (await listProcesses()).filter((entry) => entry.cwd === dir || entry.cwd.startsWith(`${dir}/`)).map((entry) => entry.pid);
}

/** Whether a process with this id exists (a zombie counts: it is not reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live processes whose parent is `ppid` (this test process by default). */
export async function childrenOf(ppid: number = process.pid): Promise<ProcessEntry[]> {
  return (await listProcesses()).filter((entry) => entry.ppid === ppid);
}

/** Probes until `done` (or `timeoutMs` passed); the last value. */
export async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
