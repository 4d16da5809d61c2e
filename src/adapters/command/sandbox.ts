// Network isolation for skills that do not declare `internet`: finds, once per process,
// a wrapper that runs a command in a fresh network namespace (unshare or bubblewrap).
import { spawn } from 'node:child_process';
import { findOnPath } from './resolve-command.js';

export interface NetworkSandbox {
  /** How it is done, for `toolport check` and the log, e.g. `unshare --net`. */
  readonly label: string;
  /** argv put in front of the command: the wrapper program and its options, ending in `--`. */
  readonly prefix: readonly [string, ...string[]];
}

export type SandboxSupport =
  | { readonly available: true; readonly sandbox: NetworkSandbox }
  | { readonly available: false; readonly reason: string };

/** Wrapper choices by name; the environment variable TOOLPORT_SANDBOX picks one or `none`. */
const modes = ['auto', 'unshare', 'bwrap', 'none'] as const;
type Mode = (typeof modes)[number];

interface Candidate {
  readonly family: 'unshare' | 'bwrap';
  readonly program: string;
  readonly options: readonly string[];
}

function candidates(isRoot: boolean): Candidate[] {
  const list: Candidate[] = [];
  // As root a network namespace needs no user namespace; otherwise map the user to itself
  // (util-linux ≥ 2.38), or to root inside the namespace on older versions.
  if (isRoot) list.push({ family: 'unshare', program: 'unshare', options: ['--net'] });
  list.push({ family: 'unshare', program: 'unshare', options: ['--map-current-user', '--net'] });
  list.push({ family: 'unshare', program: 'unshare', options: ['--map-root-user', '--net'] });
  // bubblewrap works where unprivileged user namespaces are allowed only for it (Ubuntu's AppArmor).
  list.push({ family: 'bwrap', program: 'bwrap', options: ['--dev-bind', '/', '/', '--unshare-net', '--die-with-parent'] });
  return list;
}

/** Runs argv with a short time limit; true when it exited 0. */
function succeeds(argv: readonly string[], timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, { stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
  });
}

async function probe(mode: Mode, env: NodeJS.ProcessEnv): Promise<SandboxSupport> {
  if (mode === 'none') return { available: false, reason: 'disabled by TOOLPORT_SANDBOX=none' };
  const isRoot = typeof process.geteuid === 'function' && process.geteuid() === 0;
  if (process.platform !== 'linux') return { available: false, reason: `network namespaces need Linux (this is ${process.platform})` };
  const trueCommand = (await findOnPath('true', env.PATH)) ?? '/bin/true';
  const tried: string[] = [];
  for (const candidate of candidates(isRoot)) {
    if (mode !== 'auto' && candidate.family !== mode) continue;
    const program = await findOnPath(candidate.program, env.PATH);
    const label = `${candidate.program} ${candidate.options.join(' ')}`;
    if (!program) {
      if (!tried.includes(`${candidate.program} not installed`)) tried.push(`${candidate.program} not installed`);
      continue;
    }
    const prefix: [string, ...string[]] = [program, ...candidate.options, '--'];
    if (await succeeds([...prefix, trueCommand], 5_000)) return { available: true, sandbox: { label, prefix } };
    tried.push(`${label} failed`);
  }
  return { available: false, reason: tried.length > 0 ? tried.join('; ') : 'no sandbox program found' };
}

let detected: Promise<SandboxSupport> | undefined;

/** What this host supports; probed once per process (a few ms), on the first command plugin. */
export function detectNetworkSandbox(env: NodeJS.ProcessEnv = process.env): Promise<SandboxSupport> {
  if (detected) return detected;
  const requested = (env.TOOLPORT_SANDBOX ?? 'auto').trim().toLowerCase() || 'auto';
  if (!(modes as readonly string[]).includes(requested)) {
    detected = Promise.resolve({
      available: false,
      reason: `TOOLPORT_SANDBOX=${requested} is not one of ${modes.join(', ')}`,
    });
  } else {
    detected = probe(requested as Mode, env);
  }
  return detected;
}
