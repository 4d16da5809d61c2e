// Stopping everything a plugin process started. Unsandboxed, that is the process group of
// a detached spawn. In a bubblewrap sandbox (see sandbox.ts) the program runs under bwrap's
// init, the first process of a PID namespace of its own: a stop goes to the init's process
// group (the program and what did not leave its group), and the end of the init, killed or
// taken along when bwrap goes (--die-with-parent), is the end of every process in the
// namespace, whatever setsid or setpgid they called. The init is then reaped by the host's
// init (or the nearest subreaper), as any orphan is.
import { readFileSync, readdirSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { constants } from 'node:os';

export interface ProcessTree {
  /** SIGTERM to the program's process group: a request to stop. */
  terminate(): void;
  /** SIGKILL to everything, at once. */
  kill(): void;
  /** Whether any process of the tree is still running (zombies do not count). */
  isAlive(): Promise<boolean>;
  /** After the program exited by itself: ends whatever it left running. */
  killLeftovers(): void;
}

/**
 * The signal an exit code of 128 + N stands for, the way bwrap (like a shell) reports a
 * program that died of signal N; undefined for other codes. A program may also exit with
 * such a code on purpose, so messages say "as when killed by".
 */
export function toSignalOfExitCode(exitCode: number | null): NodeJS.Signals | undefined {
  if (exitCode === null || exitCode <= 128) return undefined;
  const entry = Object.entries(constants.signals).find(([, number]) => number === exitCode - 128);
  return entry?.[0] as NodeJS.Signals | undefined;
}

/** Signals a process group; false when it is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** Alive and not a zombie: an exited process a slow init has not reaped yet holds nothing. */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const state = statFields(await readFile(`/proc/${pid}/stat`, 'utf8'))[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Whether any live process is left in the group. A member that died but was not reaped yet
 * (a zombie waiting for a slow init) still counts for kill(-pgid, 0); on Linux /proc tells them apart.
 */
export async function isGroupAlive(pgid: number): Promise<boolean> {
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  try {
    const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry));
    const stats = await Promise.all(pids.map((pid) => readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')));
    return stats.some((stat) => {
      if (stat === '') return false;
      const fields = statFields(stat);
      return Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X';
    });
  } catch {
    return true;
  }
}

/**
 * The child of bwrap: the sandbox's init (PID 1 inside), as the host numbers it. From the
 * kernel's list of children where it keeps one (CONFIG_PROC_CHILDREN), else from every
 * process's parent id.
 */
function findSandboxInit(bwrapPid: number): number | undefined {
  try {
    const first = Number(readFileSync(`/proc/${bwrapPid}/task/${bwrapPid}/children`, 'utf8').trim().split(' ')[0]);
    if (Number.isInteger(first) && first > 0) return first;
  } catch {
    // No children list here: look at every process.
  }
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat = '';
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone while we looked
      }
      if (Number(statFields(stat)[1]) === bwrapPid) return Number(entry);
    }
  } catch {
    // /proc unreadable: no init known.
  }
  return undefined;
}

/** The tree of a process spawned with `detached: true` (a group of its own), sandboxed or not. */
export function toProcessTree(pid: number, sandboxed: boolean): ProcessTree {
  if (!sandboxed) {
    return {
      terminate: () => void signalGroup(pid, 'SIGTERM'),
      kill: () => void signalGroup(pid, 'SIGKILL'),
      isAlive: () => isGroupAlive(pid),
      killLeftovers: () => void signalGroup(pid, 'SIGKILL'),
    };
  }
  let init: number | undefined;
  return {
    terminate() {
      init ??= findSandboxInit(pid);
      // Without an init yet (or any more), stopping bwrap itself stops everything, at once.
      if (init === undefined || !signalGroup(init, 'SIGTERM')) signalGroup(pid, 'SIGTERM');
    },
    kill() {
      init ??= findSandboxInit(pid);
      // The init first: bwrap reaps it and exits by itself, so no zombie is left for a slow
      // init of the host to reap. Without one, killing bwrap makes the kernel kill it.
      if (init === undefined || !signalGroup(init, 'SIGKILL')) signalGroup(pid, 'SIGKILL');
    },
    async isAlive() {
      if (signalGroup(pid, 0) && (await isRunning(pid))) return true;
      return init !== undefined && (await isRunning(init));
    },
    // bwrap exits once its init reports the program's exit; --die-with-parent then kills
    // the init, and with it whatever is left in the namespace.
    killLeftovers: () => undefined,
  };
}
