// Test helper: the Python host processes this test process started and that still run
// (Linux /proc scan), for the orphan checks after close(). In the sandbox a host is a
// grandchild (under bwrap and its init), so every descendant counts, bwrap included: its
// command line names the host script too.
import { listProcesses, type ProcessEntry } from '../../helpers/processes.js';

export { sandboxForTests } from '../../helpers/sandbox.js';

export async function livePythonHosts(ancestor = process.pid): Promise<number[]> {
  return (await liveHostEntries(ancestor)).map((entry) => entry.pid);
}

/** The interpreters among them (not bwrap nor its init): one per running host. */
export async function liveInterpreters(ancestor = process.pid): Promise<number[]> {
  return (await liveHostEntries(ancestor)).filter((entry) => !/(^|\/)bwrap$/.test(entry.program)).map((entry) => entry.pid);
}

/**
 * The process this test process started for its one host: bwrap, or the interpreter itself
 * with sandbox: off. Once it is gone (reaped), toolport has seen the host end.
 */
export async function hostRootPid(ancestor = process.pid): Promise<number | undefined> {
  return (await liveHostEntries(ancestor)).find((entry) => entry.ppid === ancestor)?.pid;
}

async function liveHostEntries(ancestor: number): Promise<ProcessEntry[]> {
  const processes = await listProcesses();
  const parents = new Map(processes.map((entry) => [entry.pid, entry.ppid]));
  const descends = (pid: number): boolean => {
    for (let current = parents.get(pid), hops = 0; current !== undefined && hops < 64; current = parents.get(current), hops += 1) {
      if (current === ancestor) return true;
    }
    return false;
  };
  return processes.filter((entry) => entry.cmdline.includes('python/host/main.py') && descends(entry.pid));
}
