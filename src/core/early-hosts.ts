// Plugin hosts started before toolport itself has loaded. A Python host takes ~0.2 s to be
// ready (the interpreter, asyncio), and `initialize` waits for it when its plugin gives
// instructions; toolport's own code takes longer than that to load. So `toolport serve` notes
// the hosts it started for such plugins, with the config file it read, and the next start with
// the same command line (and TOOLPORT_CONFIG), in the same folder, while the config file reads
// the same, starts them again from bin/toolport.js before its bundle is read. A plugin claims a
// host started that way only if its command, folder and environment are exactly the ones it
// would use now; the others are stopped.
//
// Until its plugin claims it, such a host runs what starting the interpreter runs (its site
// hooks) and toolport's host script: the plugin itself is imported by the load request that
// follows. The note is read from the cache folder the rest of toolport trusts with code (a
// private one, checked again here before anything is read).
//
// This file is imported by bin/toolport.js directly, not through the bundle: it must stay small
// and import nothing but Node and a few small core files (state-dir, files, process-tree).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, rmSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { writeFileAtomicSync } from './files.js';
import { signalGroup } from './process-tree.js';
import { toStateDirs, whyNotPrivate } from './state-dir.js';

/** A host process, as it is started: program and arguments, working folder, environment. */
export interface HostDescription {
  readonly command: readonly [string, ...string[]];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
}

export interface EarlyHosts {
  /** The cache folder the notes are kept in; a toolport using another one must `close()` these. */
  readonly cacheDir: string;
  /**
   * The config file this start read (absolute path and text) and, when it was found by looking
   * (no --config, no TOOLPORT_CONFIG), the files that would have been taken before it: a note
   * is used only while the file reads the same and those are still missing. Without it, a note
   * names no config file (plugin paths on the command line).
   */
  useConfig(file: string, text: string, takenBefore?: readonly string[]): void;
  /** A running host started exactly as described, if there is one: the caller's from now on. */
  claim(description: HostDescription): ChildProcess | undefined;
  /**
   * What a plugin (named by its path) decided once it loaded: whether the next start should
   * start a host like this one early for it (`wanted`), or none.
   */
  decide(plugin: string, description: HostDescription, wanted: boolean): void;
  /** Stops the hosts nobody claimed; nothing more is noted (the end of a serve, another command, another cache folder). */
  close(): void;
}

/** Hosts not claimed by then belong to no plugin of this start: they are stopped. */
const claimWithinMs = 10_000;
/** A note naming more hosts than this is not read. */
const maxHosts = 8;
const noteFormat = 2;

/**
 * Starts a host process: no stdin, stdout and stderr piped, fd 3 a socket pair for its RPC, in
 * a process group (or sandbox) of its own so that stopping it stops what it started.
 */
export function spawnHost(description: HostDescription): ChildProcess {
  const [program, ...args] = description.command;
  return spawn(program, args, {
    cwd: description.cwd,
    env: description.env,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    detached: process.platform !== 'win32',
    windowsHide: true,
  });
}

/** What the note keeps of an environment: a value equal to toolport's own is kept as `null` (read again at start), so no secret is written. */
type NotedEnv = Record<string, string | null>;
interface NotedHost {
  /** The plugin the host was for (its path): what a later decision about it replaces. */
  plugin: string;
  command: [string, ...string[]];
  cwd: string;
  env: NotedEnv;
}
/** The config file a note was made with: its path, the SHA-256 of its text, the files that would have been taken before it. */
interface NotedConfig {
  file: string;
  sha256: string;
  absent: string[];
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function toNoted(plugin: string, description: HostDescription, env: Readonly<Record<string, string | undefined>>): NotedHost {
  const noted: NotedEnv = {};
  for (const [name, value] of Object.entries(description.env)) noted[name] = env[name] === value ? null : value;
  return { plugin, command: [...description.command], cwd: description.cwd, env: noted };
}

function fromNoted(noted: NotedHost, env: Readonly<Record<string, string | undefined>>): HostDescription | undefined {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(noted.env)) {
    const actual = value ?? env[name];
    // A variable toolport had then and has not now: the plugin would not start it this way.
    if (actual === undefined) return undefined;
    out[name] = actual;
  }
  return { command: noted.command, cwd: noted.cwd, env: out };
}

function sameDescription(a: HostDescription, b: HostDescription): boolean {
  if (a.cwd !== b.cwd || a.command.length !== b.command.length || a.command.some((part, index) => part !== b.command[index])) return false;
  const names = Object.keys(a.env);
  return names.length === Object.keys(b.env).length && names.every((name) => Object.hasOwn(b.env, name) && a.env[name] === b.env[name]);
}

function isNotedHost(value: unknown): value is NotedHost {
  if (typeof value !== 'object' || value === null) return false;
  const { plugin, command, cwd, env } = value as Partial<NotedHost>;
  return (
    typeof plugin === 'string' &&
    Array.isArray(command) &&
    command.length > 0 &&
    command.every((part) => typeof part === 'string') &&
    typeof cwd === 'string' &&
    isAbsolute(cwd) &&
    typeof env === 'object' &&
    env !== null &&
    !Array.isArray(env) &&
    Object.values(env).every((item) => item === null || typeof item === 'string')
  );
}

/** A folder or file (not a link) this user owns and nobody else may write (what state-dir.ts asks of the folders). */
function isPrivate(path: string, folder: boolean): boolean {
  const info = lstatSync(path, { throwIfNoEntry: false });
  if (!info || (folder ? !info.isDirectory() : !info.isFile())) return false;
  return whyNotPrivate(info) === undefined;
}

/**
 * Whether a start now would read the config the note was made with: the same file, reading the
 * same, with none of the files looked for before it there. A note made without a config file
 * (`null`: plugin paths on the command line, which the key covers) needs nothing.
 */
function sameConfig(noted: unknown): boolean {
  if (noted === null) return true;
  const { file, sha256: hash, absent } = (noted ?? {}) as Partial<NotedConfig>;
  if (typeof file !== 'string' || typeof hash !== 'string' || !Array.isArray(absent)) return false;
  try {
    if (absent.some((path) => typeof path !== 'string' || lstatSync(path, { throwIfNoEntry: false }) !== undefined)) return false;
    return sha256(readFileSync(file, 'utf8')) === hash;
  } catch {
    return false;
  }
}

/** The hosts of the note, if it is private, well formed and made with the config file as it reads now. */
function readNote(file: string, cacheDir: string): NotedHost[] {
  try {
    if (!isPrivate(cacheDir, true) || !isPrivate(dirname(file), true) || !isPrivate(file, false)) return [];
    const note = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; config?: unknown; hosts?: unknown };
    if (note.format !== noteFormat || !Array.isArray(note.hosts) || note.hosts.length > maxHosts || !note.hosts.every(isNotedHost)) return [];
    return sameConfig(note.config) ? note.hosts : [];
  } catch {
    return [];
  }
}

function writeNote(file: string, config: NotedConfig | null, hosts: readonly NotedHost[]): void {
  try {
    if (hosts.length === 0) rmSync(file, { force: true });
    else writeFileAtomicSync(file, JSON.stringify({ format: noteFormat, config, hosts }));
  } catch {
    // Only a later start is slower without it.
  }
}

/** Whether a host was started and has not ended. */
const isRunning = (child: ChildProcess): child is ChildProcess & { pid: number } =>
  child.pid !== undefined && child.exitCode === null && child.signalCode === null;

/** Stops a host and what it started (its process group, or bwrap's, which takes the sandbox along). */
function stop(child: ChildProcess): void {
  if (isRunning(child) && !signalGroup(child.pid, 'SIGKILL')) child.kill('SIGKILL');
}

/**
 * Starts the hosts noted for this command line, TOOLPORT_CONFIG and folder (none when there is
 * no note, or the config file it was made with reads differently now) and returns them for the
 * plugins to claim. Reads the default cache folder (TOOLPORT_CACHE_DIR, TOOLPORT_STATE_DIR, the
 * XDG folders): a config with `stateDir` of its own gets no early hosts.
 */
export function startEarlyHosts(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, cwd: string = process.cwd()): EarlyHosts {
  const cacheDir = toStateDirs(undefined, env).cache;
  const key = sha256(JSON.stringify([noteFormat, cwd, argv, env.TOOLPORT_CONFIG ?? null])).slice(0, 32);
  const file = join(cacheDir, 'early-hosts', `${key}.json`);
  const notedBefore = readNote(file, cacheDir);
  const started: { description: HostDescription; child: ChildProcess }[] = [];
  for (const noted of notedBefore) {
    const description = fromNoted(noted, env);
    if (!description) continue;
    const child = spawnHost(description);
    // A host that cannot start is no one's concern: the plugin starts its own.
    child.on('error', () => {});
    started.push({ description, child });
  }
  let config: NotedConfig | null = null;
  // What the plugins of this start decided, by plugin: the host to note, or null for none. A
  // noted host whose plugin decided nothing (the start ended first, or its load failed) stays.
  const decisions = new Map<string, NotedHost | null>();
  let written = JSON.stringify(notedBefore);
  let open = true;
  const stopUnclaimed = (): void => {
    clearTimeout(timer);
    for (const entry of started.splice(0)) stop(entry.child);
  };
  // Plugins that give instructions load at once: by then they had their chance.
  const timer = setTimeout(stopUnclaimed, claimWithinMs);
  timer.unref();
  return {
    cacheDir,
    useConfig(configFile, text, takenBefore = []) {
      config = { file: configFile, sha256: sha256(text), absent: [...takenBefore] };
    },
    claim(description) {
      const at = started.findIndex((entry) => sameDescription(entry.description, description));
      if (at === -1) return undefined;
      const [entry] = started.splice(at, 1);
      return entry && isRunning(entry.child) ? entry.child : undefined;
    },
    decide(plugin, description, wanted) {
      if (!open) return;
      decisions.set(plugin, wanted ? toNoted(plugin, description, env) : null);
      const undecided = notedBefore.filter((noted) => !decisions.has(noted.plugin));
      // In plugin order, so that the same hosts make the same note whatever order plugins load in.
      const hosts = [...undecided, ...[...decisions.values()].filter((noted): noted is NotedHost => noted !== null)]
        .sort((a, b) => (a.plugin < b.plugin ? -1 : a.plugin > b.plugin ? 1 : 0))
        .slice(0, maxHosts);
      // Written at once (a start may end within the second), unless the note says this already.
      const next = JSON.stringify(hosts);
      if (next === written) return;
      written = next;
      writeNote(file, config, hosts);
    },
    close() {
      stopUnclaimed();
      open = false;
    },
  };
}
