// Test helper: the Python host processes this test process started (Linux /proc scan),
// for the orphan checks after close().
import { readFile, readdir } from 'node:fs/promises';

export async function livePythonHosts(parent = process.pid): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name: state, ppid, ...
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || Number(fields[1]) !== parent) continue;
      const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8');
      if (cmdline.includes('python/host/main.py')) pids.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
