// Stopping command tools: a timeout, a client cancellation or close() reaches every process
// of the call (found by a marker in their command lines: inside the sandbox they write pids
// of its own PID namespace), leftovers of a finished command are killed, and a flood of
// output is capped without holding it in memory.
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCode, isToolportError } from '../../../src/core/errors.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../../src/toolport.js';
import { makeScratch, pidsWithCwd, pidsWithMarker, repoDist, sandboxForTests, textOf, waitFor, writeSkill } from './helpers.js';

let markers = 0;
/** A marker for one call: every process of its tree carries it in its command line. */
function newMarker(): string {
  markers += 1;
  return `tree-${process.pid}-${markers}-x`;
}

/** Waits until `count` processes of the call run (its leader and grandchildren); their pids. */
async function started(marker: string, count: number): Promise<number[]> {
  const pids = await waitFor(() => pidsWithMarker(`${marker}-`), (found) => found.length >= count, 10_000);
  expect(pids.length).toBeGreaterThanOrEqual(count);
  return pids;
}

// The leader and one grandchild ignore SIGTERM, so stopping needs SIGKILL.
const treeScript = `#!/bin/sh
sh -c 'trap "" TERM; while :; do sleep 1; done' "$1-stubborn" &
sh -c 'while :; do sleep 1; done' "$1-plain" &
trap '' TERM
exec sh -c 'trap "" TERM; while :; do sleep 1; done' "$1-leader"
`;

const leftoverScript = `#!/bin/sh
sh -c 'sleep 30' "$1-leftover" &
echo done
`;

const floodScript = `#!/bin/sh
printf 'STDOUT-START\\n'
head -c 52428800 /dev/zero | tr '\\0' 'a'
printf '\\nSTDOUT-END\\n'
printf 'STDERR-START\\n' >&2
head -c 52428800 /dev/zero | tr '\\0' 'b' >&2
printf '\\nSTDERR-END\\n' >&2
exit "$1"
`;

let root: string;
let skill: string;
let toolport: Toolport;

beforeAll(async () => {
  root = await makeScratch('tree');
  skill = await writeSkill(root, 'tree', {
    agentToml: `
[tools.tree]
command = "scripts/tree.sh"
args = ["$marker"]
timeout_secs = 1

[tools.leftover]
command = "scripts/leftover.sh"
args = ["$marker"]

[tools.flood]
command = "scripts/flood.sh"
args = ["$code"]

[tools.small]
command = "scripts/small.sh"
`,
    files: {
      'scripts/tree.sh': treeScript,
      'scripts/leftover.sh': leftoverScript,
      'scripts/flood.sh': floodScript,
      'scripts/small.sh': '#!/bin/sh\necho small\n',
    },
  });
  toolport = await createToolport(parseConfig({ plugins: [{ path: skill, killGraceSeconds: 0.5, ...sandboxForTests, readOnly: ['*'] }] }));
  expect(toolport.diagnostics.filter((d) => d.level === 'error')).toEqual([]);
});

afterAll(async () => {
  await toolport?.close();
  await rm(root, { recursive: true, force: true });
});

describe('command skills: stopping the process tree', () => {
  it('a timeout stops the whole group, SIGKILL after the grace period; no pid survives', async () => {
    const marker = newMarker();
    const begin = Date.now();
    const call = callTool(toolport, 'tree__tree', { marker });
    await started(marker, 3);
    const result = await call;
    const elapsed = Date.now() - begin;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('tree timed out after 1 s and was stopped (killed after ignoring SIGTERM).');
    expect(elapsed).toBeGreaterThanOrEqual(1_450);
    expect(elapsed).toBeLessThan(3_500);
    // When the result is there, the group is already gone.
    expect(await pidsWithMarker(marker)).toEqual([]);
    expect(await pidsWithCwd(skill)).toEqual([]);
  });

  it('client cancellation stops the group too', async () => {
    const marker = newMarker();
    const controller = new AbortController();
    const call = toolport.call('tree__tree', { marker }, { signal: controller.signal }).catch((reason: unknown) => reason);
    await started(marker, 3);
    controller.abort();
    const error = await call;
    expect(isToolportError(error) && error.code).toBe(ErrorCode.CallCancelled);
    expect(await waitFor(() => pidsWithMarker(marker), (pids) => pids.length === 0, 3_000)).toEqual([]);
  });

  it('close() waits until every running call is stopped', async () => {
    const other = await createToolport(parseConfig({ plugins: [{ path: skill, killGraceSeconds: 0.3, ...sandboxForTests, readOnly: ['*'] }] }));
    const marker = newMarker();
    const call = other.call('tree__tree', { marker }).catch((reason: unknown) => reason);
    await started(marker, 3);
    await other.close();
    expect(await pidsWithMarker(marker)).toEqual([]);
    const error = await call;
    expect(isToolportError(error) && error.code).toBe(ErrorCode.ShuttingDown);
  });

  it('what a finished command leaves running in its group is killed', async () => {
    const marker = newMarker();
    const result = await callTool(toolport, 'tree__leftover', { marker });
    expect(textOf(result)).toBe('done\n');
    expect(await waitFor(() => pidsWithMarker(marker), (pids) => pids.length === 0, 1_000)).toEqual([]);
  });
});

describe('command skills: output caps', () => {
  it('keeps the first 1 MiB of 50 MiB of stdout, with a marker saying how much there was', async () => {
    const result = await callTool(toolport, 'tree__flood', { code: '0' });
    expect(result.isError).toBeUndefined();
    const text = textOf(result);
    expect(text.startsWith('STDOUT-START\naaaa')).toBe(true);
    expect(text).not.toContain('STDOUT-END');
    expect(text.endsWith('\n[toolport: stdout truncated: the command wrote 52428825 bytes; the first 1048576 are kept]')).toBe(true);
    expect(text.length).toBeLessThan(1_048_576 + 200);
  });

  it('keeps the tail of stderr, where the error usually is', async () => {
    const result = await callTool(toolport, 'tree__flood', { code: '1' });
    expect(result.isError).toBe(true);
    const text = textOf(result);
    expect(text).toContain('[toolport: stdout truncated: the command wrote 52428825 bytes; the first 1048576 are kept]');
    expect(text).toContain('stderr (last 4096 of 52428825 bytes):\n');
    expect(text.endsWith('bbbb\nSTDERR-END\n')).toBe(true);
    expect(text).not.toContain('STDERR-START');
  });

  it('100 MiB of output does not blow up memory (measured in a fresh process)', async () => {
    const script = join(root, 'memory.mjs');
    await writeFile(
      script,
      `import { createToolport } from ${JSON.stringify(`${repoDist}/toolport.js`)};
import { parseConfig } from ${JSON.stringify(`${repoDist}/config/load.js`)};
const toolport = await createToolport(parseConfig({ plugins: [{ path: ${JSON.stringify(skill)}, ...${JSON.stringify(sandboxForTests)}, readOnly: ['*'] }] }));
for (let i = 0; i < 3; i += 1) await toolport.call('tree__small', {});
const before = process.resourceUsage().maxRSS;
const result = await toolport.call('tree__flood', { code: '1' });
const after = process.resourceUsage().maxRSS;
await toolport.close();
process.stdout.write(JSON.stringify({ growthKiB: after - before, textLength: result.content[0].text.length }));
`,
    );
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      child.once('error', reject);
      child.once('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
    });
    const { growthKiB, textLength } = JSON.parse(output) as { growthKiB: number; textLength: number };
    // Holding the output takes ~250 MiB here (chunks, a copy, the string); capped, ~40 MiB of GC lag.
    expect(growthKiB / 1024).toBeLessThan(80);
    expect(textLength).toBeLessThan(1_048_576 + 4_096 + 500);
  });
});
