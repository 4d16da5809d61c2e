// Test helper: the Python host processes this test process started and that still run
// (Linux /proc scan), for the orphan checks after close(). In the sandbox a host is a
// grandchild (under bwrap and its init), so every descendant counts, bwrap included: its
// command line names the host script too.
import { readFile, readdir } from 'node:fs/promises';

export { sandboxForTests } from '../../helpers/sandbox.js';

export async function livePythonHosts(ancestor = process.pid): Promise<number[]> {
  return (await liveHostEntries(ancestor)).map((entry) => entry.pid);
}

/** The interpreters among them (not bwrap nor its init): one per running host. */
export async function liveInterpreters(ancestor = process.pid): Promise<number[]> {
  return (await liveHostEntries(ancestor)).filter((entry) => !/(^|\/)bwrap$/.test(entry.program)).map((entry) => entry.pid);
}

async function liveHostEntries(ancestor: number): Promise<{ pid: number; program: string }[]> {
  const parents = new Map<number, number>();
  const hosts: { pid: number; program: string }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name: state, ppid, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      parents.set(Number(name), Number(fields[1]));
      const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes('python/host/main.py')) hosts.push({ pid: Number(name), program: cmdline.split('\0')[0] ?? '' });
    } catch {
      // The process ended while we looked.
    }
  }
  const descends = (pid: number): boolean => {
    for (let current = parents.get(pid), hops = 0; current !== undefined && hops < 64; current = parents.get(current), hops += 1) {
      if (current === ancestor) return true;
    }
    return false;
  };
  return hosts.filter((host) => descends(host.pid));
}
