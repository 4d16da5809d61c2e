// A server whose stderr reader went away (the process that started it died) keeps serving
// quietly: before, every log line failed with EPIPE, the failure was logged, and that failed
// too, for ever, at full CPU.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { binPath, connectClient, repoRoot, waitForServing } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));

/** CPU seconds (user + system) the process used so far, from /proc. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

describe('a server whose stderr is gone', () => {
  it.skipIf(process.platform !== 'linux')('keeps serving without spinning, and still stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [binPath, 'serve', fixture, '--http', '--port', '0', '--log-level', 'debug'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await waitForServing(child);
      // The reader of its stderr goes away, as when the parent dies.
      child.stderr.destroy();
      // Work that logs (debug level: every call writes lines).
      const client = await connectClient('http-2025', { url });
      expect((await client.callTool({ name: 'e2e__weather', arguments: { city: 'Oslo' } })).isError).toBeFalsy();
      await client.close();
      const before = await cpuSeconds(child.pid ?? -1);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const used = (await cpuSeconds(child.pid ?? -1)) - before;
      expect(used).toBeLessThan(0.2);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
