// The sandbox's promises in README.md ("Security model", the `command` row; "Command skills",
// "How a call runs"), each tried from inside a call, as a skill's author would: the kernel's
// namespace ids of the call against toolport's own (network too, unless granted), a private
// /tmp that neither leaks to the host nor to the next call nor shows the host's, a program
// outside the skill folder that tries to rewrite itself, and, with `sandbox: off`, a stop
// that still reaches the background processes the script started.
import { existsSync, readlinkSync } from 'node:fs';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { ErrorCode, isToolportError } from '../../src/core/errors.js';
import { callTool } from '../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { makeScratch, textOf, writeSkill } from '../adapters/command/helpers.js';
import { pidsInFolder } from '../helpers/processes.js';
import { bwrapWorks, needsBwrap, pidsWithMarker, waitFor } from './helpers.js';

const namespaces = ['pid', 'mnt', 'ipc', 'uts', 'net'] as const;
type Namespace = (typeof namespaces)[number];

/** The namespaces of this process, which runs toolport (`net:[4026531840]` and so on). */
const host = Object.fromEntries(namespaces.map((name) => [name, readlinkSync(`/proc/self/ns/${name}`)])) as Record<Namespace, string>;

// Prints "NAME LINK" for each namespace the script itself is in.
const nsScript = `#!/bin/sh
for name in ${namespaces.join(' ')}; do echo "$name $(readlink /proc/self/ns/$name)"; done
`;

// Whatever the program is, it tries to change itself ($0 is the absolute path it was started by),
// then to read what lies beside it on the host.
const selfScript = `#!/bin/sh
if printf 'pwned\\n' > "$0" 2>/dev/null; then echo overwritten; else echo 'overwrite refused'; fi
if printf 'pwned\\n' >> "$0" 2>/dev/null; then echo appended; else echo 'append refused'; fi
if chmod 0777 "$0" 2>/dev/null; then echo chmodded; else echo 'chmod refused'; fi
if cat "\${0%/*}/beside.txt" 2>/dev/null; then echo 'read beside'; else echo 'beside unseen'; fi
if mv "$0" "$0.moved" 2>/dev/null; then echo moved; else echo 'move refused'; fi
if rm -f "$0" 2>/dev/null && [ ! -e "$0" ]; then echo removed; else echo 'remove refused'; fi
`;

// With `sandbox: off`: a child in the background that ignores SIGTERM (so only the SIGKILL of
// the group after the grace period ends it) and the script itself in a loop. Both carry the marker.
const backgroundScript = `#!/bin/sh
sh -c 'trap "" TERM; while :; do sleep 1; done' "$1-child" &
echo started
while :; do sleep 1; done
`;

let root: string;
let skill: string;
let programDir: string;
let program: string;
const programText = selfScript;
let loose: string;
/** The sandboxed skill (only where bwrap works). */
let sandboxed: Toolport | undefined;
/** The `sandbox: off` skill. */
let unsandboxed: Toolport;

let counter = 0;
function unique(label: string): string {
  counter += 1;
  return `toolport-promise-${label}-${process.pid}-${Date.now()}-${counter}`;
}

beforeAll(async () => {
  root = await makeScratch('promises');
  programDir = await makeScratch('program');
  program = join(programDir, 'self.sh');
  await writeFile(program, programText);
  await chmod(program, 0o755);
  await writeFile(join(programDir, 'beside.txt'), 'beside the program, on the host');
  skill = await writeSkill(root, 'prober', {
    agentToml: `
[tools.ns]
command = "scripts/ns.sh"

[tools.write]
command = "scripts/write.sh"
args = ["$path"]

[tools.read]
command = "scripts/read.sh"
args = ["$path"]

[tools.self]
command = ${JSON.stringify(program)}
`,
    files: {
      'scripts/ns.sh': nsScript,
      'scripts/write.sh': '#!/bin/sh\nprintf "from the call\\n" > "$1" && echo written\n',
      'scripts/read.sh': '#!/bin/sh\ncat "$1"\n',
    },
  });
  loose = await writeSkill(root, 'loose', {
    agentToml: '[tools.background]\ncommand = "scripts/background.sh"\nargs = ["$marker"]\n',
    files: { 'scripts/background.sh': backgroundScript },
  });
  // The operator lets the tools run without approval: these tests are about isolation.
  const policy = { unknownSideEffects: 'allow' };
  if (bwrapWorks) {
    sandboxed = await createToolport(parseConfig({ policy, plugins: [{ path: skill }, { path: skill, id: 'online', grants: { network: true } }] }));
    expect(sandboxed.diagnostics.filter((d) => d.level === 'error')).toEqual([]);
  }
  unsandboxed = await createToolport(parseConfig({ policy, plugins: [{ path: loose, sandbox: 'off', timeoutSeconds: 1, killGraceSeconds: 0.3 }] }));
  expect(unsandboxed.diagnostics.filter((d) => d.level === 'error')).toEqual([]);
});

afterAll(async () => {
  await sandboxed?.close();
  await unsandboxed?.close();
  await rm(root, { recursive: true, force: true });
  if (programDir) await rm(programDir, { recursive: true, force: true });
});

/** The namespaces a call of `tool` runs in, as it reads them itself. */
async function namespacesOf(tool: string): Promise<Record<Namespace, string>> {
  const result = await callTool(sandboxed as Toolport, tool);
  expect(result.isError, textOf(result)).toBeFalsy();
  const seen = Object.fromEntries(
    textOf(result)
      .trim()
      .split('\n')
      .map((line) => line.split(' ') as [string, string]),
  );
  for (const name of namespaces) expect(seen[name], name).toMatch(new RegExp(`^${name}:\\[\\d+\\]$`));
  return seen as Record<Namespace, string>;
}

describe(`command skills: the sandbox's promises, from inside a call${needsBwrap}`, () => {
  it.skipIf(!bwrapWorks)("a call's PID, mount, IPC, UTS and network namespaces are not toolport's", async () => {
    const inside = await namespacesOf('prober__ns');
    for (const name of namespaces) expect(inside[name], name).not.toBe(host[name]);
  });

  it.skipIf(!bwrapWorks)("with grants.network, the call shares toolport's network namespace but still has its own PID, mount, IPC and UTS", async () => {
    const inside = await namespacesOf('online__ns');
    expect(inside.net).toBe(host.net);
    for (const name of ['pid', 'mnt', 'ipc', 'uts'] as const) expect(inside[name], name).not.toBe(host[name]);
  });

  it.skipIf(!bwrapWorks)("a file a call writes to /tmp reaches neither the host's /tmp nor the next call; the host's /tmp is not visible", async () => {
    const name = unique('tmp');
    const written = await callTool(sandboxed as Toolport, 'prober__write', { path: `/tmp/${name}` });
    expect(textOf(written)).toBe('written\n');
    const leaked = [join('/tmp', name), join(tmpdir(), name)].filter((path) => existsSync(path));
    // A broken promise leaves no file behind on the host.
    for (const path of leaked) await rm(path, { force: true });
    expect(leaked).toEqual([]);
    // Every call has a sandbox of its own, so a /tmp of its own.
    const next = await callTool(sandboxed as Toolport, 'prober__read', { path: `/tmp/${name}` });
    expect(next.isError).toBe(true);
    expect(textOf(next)).not.toContain('from the call');
    // And what the host keeps in /tmp (outside the skill folder) is not there.
    const hostFile = join('/tmp', unique('host'));
    await writeFile(hostFile, 'host tmp secret');
    try {
      const peek = await callTool(sandboxed as Toolport, 'prober__read', { path: hostFile });
      expect(peek.isError).toBe(true);
      expect(textOf(peek)).not.toContain('host tmp secret');
    } finally {
      await rm(hostFile, { force: true });
    }
  });

  it.skipIf(!bwrapWorks)('a program outside the skill folder runs but cannot overwrite, chmod, move or remove itself, nor read beside itself', async () => {
    const before = await stat(program);
    const result = await callTool(sandboxed as Toolport, 'prober__self');
    expect(textOf(result)).toBe('overwrite refused\nappend refused\nchmod refused\nbeside unseen\nmove refused\nremove refused\n');
    expect(await readFile(program, 'utf8')).toBe(programText);
    const after = await stat(program);
    expect(after.mode).toBe(before.mode);
    expect(after.mtimeMs).toBe(before.mtimeMs);
    expect(existsSync(`${program}.moved`)).toBe(false);
  });
});

describe('command skills with sandbox: off: a stop reaches the process group', () => {
  /** Waits until the script and its background child run; their pids. */
  async function started(marker: string): Promise<number[]> {
    const pids = await waitFor(() => pidsWithMarker(marker), (found) => found.length >= 2, 10_000);
    expect(pids.length).toBeGreaterThanOrEqual(2);
    return pids;
  }

  it('at the time limit, the script and a background child that ignores SIGTERM are both gone', async () => {
    const marker = unique('timeout');
    const call = callTool(unsandboxed, 'loose__background', { marker });
    await started(marker);
    const result = await call;
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^background timed out after 1 s and was stopped \(killed after ignoring SIGTERM\)/);
    expect(await waitFor(() => pidsWithMarker(marker), (pids) => pids.length === 0, 1_000)).toEqual([]);
    // Nor anything else of the call (its sleeps): every process it started works in the skill folder.
    expect(await waitFor(() => pidsInFolder(loose), (pids) => pids.length === 0, 1_000)).toEqual([]);
  });

  it('on client cancellation, the script and its background child are both gone', async () => {
    const marker = unique('cancel');
    const controller = new AbortController();
    const call = unsandboxed.call('loose__background', { marker }, { signal: controller.signal }).catch((reason: unknown) => reason);
    await started(marker);
    controller.abort();
    const error = await call;
    expect(isToolportError(error) && error.code).toBe(ErrorCode.CallCancelled);
    expect(await waitFor(() => pidsWithMarker(marker), (pids) => pids.length === 0, 2_000)).toEqual([]);
    expect(await waitFor(() => pidsInFolder(loose), (pids) => pids.length === 0, 1_000)).toEqual([]);
  });
});
