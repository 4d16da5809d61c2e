// The kernel sandbox for plugins that run native code (command skills, the Python host):
// bubblewrap on Linux. A plugin process gets new PID, mount, IPC and UTS namespaces (and a
// network namespace unless granted), sees the system folders and its own folder read-only,
// each granted folder ro or rw, a private /tmp and nothing else of the host's files, and
// runs in a new session with no capabilities and no new privileges. Also the environment
// allowlist every such process starts from.
import { spawn } from 'node:child_process';
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { z } from 'zod';
import { findOnPath, isInside } from './file-paths.js';

export type FileAccess = 'ro' | 'rw';

/**
 * A plugin block's `sandbox` key: `on` (the default) or `off`, the explicit opt-out. YAML
 * 1.1 readers and JSON configs may say `false`/`true`; they mean the same.
 */
export const sandboxSettingSchema = z
  .preprocess(
    (value) => (value === false ? 'off' : value === true ? 'on' : value),
    z.enum(['on', 'off'], { error: 'must be "off" (run this plugin without the sandbox) or "on" (the default)' }),
  )
  .default('on');
export type SandboxSetting = z.output<typeof sandboxSettingSchema>;

export interface SandboxPlan {
  /** The working folder (the plugin's folder). */
  readonly cwd: string;
  /** What the plugin may read besides system folders: its own folder, its program, its interpreter. */
  readonly readOnly: readonly { readonly path: string; readonly label?: string }[];
  /** Granted files and folders by absolute path. */
  readonly files: Readonly<Record<string, FileAccess>>;
  readonly network: boolean;
}

export interface Sandbox {
  /** bwrap and its options, ending in `--`: put in front of the program and its arguments. */
  readonly prefix: readonly [string, ...string[]];
  /** One line for `toolport check`: the namespaces, the network, the folders. */
  readonly description: string;
  /** TMPDIR inside: the private /tmp. */
  readonly tmpDir: string;
}

export type SandboxSupport =
  | { readonly available: true; readonly bwrap: string; readonly systemArgs: readonly string[]; readonly systemFolders: readonly string[] }
  | { readonly available: false; readonly reason: string };

/** Said wherever bwrap is missing: what to install, and the way out. */
export function describeMissingSandbox(reason: string, plugins: string): string {
  return (
    `${reason}; toolport runs ${plugins} inside it to enforce their grants. ` +
    'Install it (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap; Arch: pacman -S bubblewrap), ' +
    'or set "sandbox: off" in this plugin\'s config to run it without isolation'
  );
}

/** The loud warning for `sandbox: off`, at start and in `check`. */
export const sandboxOffWarning =
  "sandbox: off (set in the config): runs with toolport's own rights, not isolated: it can read and write every file toolport can, use the network, and leave processes behind; only its environment is limited to its grants";

/** Top-level system folders, bound read-only (or re-created as the symlinks they are on merged-/usr systems). */
const systemFolders = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/**
 * The parts of /etc programs read by themselves: users and groups (no passwords), name
 * resolution, time zone, dynamic linker, TLS certificates, locale aliases, Debian's
 * alternatives (many /usr/bin links go through it) and Python's site configuration.
 * Not /etc as a whole: it holds secrets such as /etc/shadow that root in the sandbox could read.
 */
const etcEntries = [
  'passwd', 'group', 'nsswitch.conf', 'hosts', 'host.conf', 'resolv.conf', 'gai.conf', 'services', 'protocols',
  'localtime', 'timezone', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d', 'alternatives', 'ssl', 'ca-certificates',
  'ca-certificates.conf', 'pki', 'crypto-policies', 'locale.alias', 'locale.conf', 'mime.types', 'os-release', 'debian_version',
];

/** What the sandbox binds of the system (synchronous, as file-paths.ts says why). */
function systemLayout(): { args: string[]; folders: string[] } {
  const args: string[] = [];
  const folders: string[] = [];
  for (const folder of systemFolders) {
    // A folder that cannot be looked at (missing, unreadable) is not bound.
    try {
      const info = lstatSync(folder);
      if (info.isSymbolicLink()) args.push('--symlink', readlinkSync(folder), folder);
      else if (info.isDirectory()) args.push('--ro-bind', folder, folder);
      else continue;
    } catch {
      continue;
    }
    folders.push(folder);
  }
  let etc: string[];
  try {
    etc = readdirSync('/etc');
  } catch {
    etc = [];
  }
  for (const name of etc) {
    if (etcEntries.includes(name) || /^python\d/.test(name)) {
      args.push('--ro-bind', `/etc/${name}`, `/etc/${name}`);
      folders.push(`/etc/${name}`);
    }
  }
  // The private /tmp comes before the plugin's binds: a plugin folder under /tmp is bound into it.
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  return { args, folders };
}

/** Options every sandbox has, whatever it binds: namespaces, session, privileges. */
function isolationArgs(network: boolean): string[] {
  return [
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    ...(network ? [] : ['--unshare-net']),
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
  ];
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.replace(/^bwrap: /, '') ?? '';
}

/** Runs argv with a short time limit; the exit code and the start of stderr. */
function runProbe(argv: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5_000, killSignal: 'SIGKILL' });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk.slice(0, 2_000)));
    child.once('error', (error) => resolve({ code: null, stderr: error.message }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

function locate(searchPath: string | undefined): SandboxSupport {
  if (process.platform !== 'linux') return { available: false, reason: `bubblewrap (bwrap) needs Linux, and this is ${process.platform}` };
  const bwrap = findOnPath('bwrap', searchPath);
  if (!bwrap) return { available: false, reason: 'bubblewrap (bwrap) is not installed here (not found on PATH)' };
  const layout = systemLayout();
  return { available: true, bwrap, systemArgs: layout.args, systemFolders: layout.folders };
}

async function probe(located: SandboxSupport): Promise<SandboxSupport> {
  if (!located.available) return located;
  const { bwrap, systemArgs, systemFolders } = located;
  const trueProgram = ['/usr/bin/true', '/bin/true'].find((path) => systemFolders.some((folder) => isInside(folder, path)));
  const result = await runProbe([bwrap, ...isolationArgs(false), ...systemArgs, '--', trueProgram ?? '/usr/bin/true']);
  if (result.code !== 0) {
    return { available: false, reason: `bubblewrap (${bwrap}) cannot create a sandbox here (${firstLine(result.stderr) || `exit code ${result.code}`})` };
  }
  return located;
}

const located = new Map<string, SandboxSupport>();
const detected = new Map<string, Promise<SandboxSupport>>();

/**
 * Where bwrap is on `searchPath` and what it binds of the system, without running it
 * (synchronous): enough to build a sandbox's command while detectSandbox() confirms bwrap works.
 */
export function locateSandbox(searchPath: string | undefined = process.env.PATH): SandboxSupport {
  const key = searchPath ?? '';
  let found = located.get(key);
  if (!found) {
    found = locate(searchPath);
    located.set(key, found);
  }
  return found;
}

/** Whether bwrap works here, found on `searchPath`; probed once per PATH (a few ms). */
export function detectSandbox(searchPath: string | undefined = process.env.PATH): Promise<SandboxSupport> {
  const key = searchPath ?? '';
  let support = detected.get(key);
  if (!support) {
    support = probe(locateSandbox(searchPath));
    detected.set(key, support);
  }
  return support;
}


/** Builds the bwrap prefix for one plugin (once, at load), and says what it does. */
export function toSandbox(support: Extract<SandboxSupport, { available: true }>, plan: SandboxPlan): Sandbox {
  const binds: string[] = [];
  const shown: string[] = [];
  const bound: string[] = [];
  for (const { path, label } of plan.readOnly) {
    if ([...support.systemFolders, ...bound].some((folder) => isInside(folder, path))) continue;
    binds.push('--ro-bind', path, path);
    bound.push(path);
    shown.push(`${path} (ro${label ? `, ${label}` : ''})`);
  }
  // Outer folders first, so a grant inside another (or inside the plugin's folder) wins there.
  const granted = Object.entries(plan.files);
  for (const [path, access] of [...granted].sort(([a], [b]) => a.length - b.length || a.localeCompare(b))) {
    binds.push(access === 'rw' ? '--bind-try' : '--ro-bind-try', path, path);
  }
  for (const [path, access] of granted) shown.push(`${path} (${access})`);
  // A grant of / (or another ancestor of /proc or /dev) binds the host's, with toolport's
  // processes in it: the sandbox's own go on top again.
  if (granted.some(([path]) => isInside(path, '/proc') || isInside(path, '/dev'))) binds.push('--proc', '/proc', '--dev', '/dev');
  const namespaces = plan.network ? 'pid/mount/ipc/uts' : 'pid/mount/ipc/uts/net';
  const description =
    `sandbox: bubblewrap, new ${namespaces} namespaces; network: ${plan.network ? 'allowed (granted)' : 'none'}; ` +
    `files: ${[...shown, 'system folders (ro)', 'private /tmp'].join(', ')}`;
  return {
    prefix: [support.bwrap, ...isolationArgs(plan.network), ...support.systemArgs, ...binds, '--chdir', plan.cwd, '--'],
    description,
    tmpDir: '/tmp',
  };
}

/** Variables every sandboxed process gets from toolport's environment: locale, time zone, paths, who. None secret. */
const allowlist = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TERM', 'SYSTEMROOT'];
const defaultPath = '/usr/local/bin:/usr/bin:/bin';

/** Whether every plugin process gets `name` from toolport's environment without a grant. */
export function isAllowlisted(name: string): boolean {
  return allowlist.includes(name) || name.startsWith('LC_');
}

/**
 * The start of a plugin process's environment: the allowlist and LC_* from `source`, plus the
 * granted names that are set. Never toolport's whole environment.
 */
export function toPluginEnvironment(source: Readonly<Record<string, string | undefined>>, granted: readonly string[], sandbox?: Sandbox): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (isAllowlisted(name)) env[name] = value;
  }
  env.PATH ??= defaultPath;
  if (sandbox) env.TMPDIR = sandbox.tmpDir;
  for (const name of granted) {
    const value = source[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}
