// One subprocess run: argv only, its own process group (or its own sandbox), stdin from
// /dev/null, stdout and stderr each capped, and a stop (the call's signal: its deadline,
// cancellation, shutdown) that sends SIGTERM to the program's group, then SIGKILL to
// everything after a grace period. Whatever the command leaves behind dies with it.
import { spawn } from 'node:child_process';
import { toProcessTree, type ProcessTree } from '../../core/process-tree.js';

export interface RunRequest {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly killGraceMs: number;
  readonly maxOutputBytes: number;
  /** How much of the end of stderr to keep (only its tail is ever shown). */
  readonly maxStderrBytes: number;
  /** Stops the run: the call's deadline, client cancellation, shutdown. */
  readonly signal: AbortSignal;
  /** `file` is bwrap running the program in a sandbox of its own (see core/sandbox.ts). */
  readonly sandboxed: boolean;
}

export interface CapturedOutput {
  /** What was kept: the head for stdout, the tail for stderr. */
  readonly text: string;
  /** Bytes the process wrote in total. */
  readonly totalBytes: number;
  readonly truncated: boolean;
}

export interface RunResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether toolport stopped the process (the signal fired; its reason says why). */
  readonly stopped: boolean;
  /** The group needed SIGKILL after the grace period. */
  readonly killed: boolean;
  readonly stdout: CapturedOutput;
  readonly stderr: CapturedOutput;
  readonly pid: number;
  readonly durationMs: number;
}

/** The process could not be started at all (ENOENT, EACCES...). */
export class StartError extends Error {
  override readonly name = 'StartError';
  constructor(
    readonly errno: string,
    cause: unknown,
  ) {
    super(`cannot start the command (${errno})`, { cause });
  }
}

/** Keeps the first `limit` bytes and counts the rest. */
class HeadCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.total += chunk.length;
    if (this.kept >= this.limit) return;
    const room = this.limit - this.kept;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(Buffer.from(part));
    this.kept += part.length;
  }
  result(): CapturedOutput {
    return { text: Buffer.concat(this.chunks).toString('utf8'), totalBytes: this.total, truncated: this.total > this.kept };
  }
}

/** Keeps the last `limit` bytes: the end of stderr is where the error usually is. */
class TailCapture {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.chunks.length > 1 && this.kept - (this.chunks[0] as Buffer).length >= this.limit) {
      this.kept -= (this.chunks.shift() as Buffer).length;
    }
  }
  result(): CapturedOutput {
    let all = Buffer.concat(this.chunks);
    if (all.length > this.limit) all = all.subarray(all.length - this.limit);
    this.chunks = [all];
    this.kept = all.length;
    return { text: all.toString('utf8'), totalBytes: this.total, truncated: this.total > all.length };
  }
}

/** Process trees started here and not known to be gone. */
const liveTrees = new Set<ProcessTree>();
let exitHookInstalled = false;

/**
 * If toolport exits without closing its plugins (a second Ctrl+C, a fatal error), the groups
 * it started would live on in their own sessions; an exit hook kills them, synchronously.
 */
function trackTree(tree: ProcessTree): void {
  liveTrees.add(tree);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const live of liveTrees) live.kill();
  });
}

const pollMs = 25;
/** How long to wait for the pipes after the main process exited (a daemon may hold them). */
const drainMs = 500;
/** How long to wait for a group after SIGKILL before reporting anyway. */
const lingerMs = 2_000;

export function runProcess(request: RunRequest): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(request.file, [...request.args], {
      cwd: request.cwd,
      env: request.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A new session and process group, so a stop reaches every process the command started.
      detached: true,
      windowsHide: true,
    });
    const stdout = new HeadCapture(request.maxOutputBytes);
    const stderr = new TailCapture(request.maxStderrBytes);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    let stopped = false;
    let killed = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const pid = child.pid;

    const cleanup = (): void => {
      for (const timer of timers) clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
    };

    // `on`, not `once`: a second 'error' without a listener would throw in toolport.
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (pid !== undefined || settled) return;
      settled = true;
      cleanup();
      reject(new StartError(error.code ?? 'unknown error', error));
    });
    if (pid === undefined) return;
    const tree = toProcessTree(pid, request.sandboxed);
    trackTree(tree);

    /** Resolves once the group is gone (or, for a group that will not die, after SIGKILL and a bound). */
    const finish = (): void => {
      if (settled) return;
      settled = true;
      liveTrees.delete(tree);
      cleanup();
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({
        exitCode: exit?.code ?? null,
        signal: exit?.signal ?? null,
        stopped,
        killed,
        stdout: stdout.result(),
        stderr: stderr.result(),
        pid,
        durationMs: performance.now() - started,
      });
    };

    let closed = false;
    let groupGone = false;
    /** After the group is gone, give the pipes a moment to deliver what is left in them. */
    const drainThenFinish = (): void => {
      if (closed) return finish();
      timers.push(setTimeout(finish, drainMs));
    };

    /**
     * After a stop: wait until no process of the group is left, escalating to SIGKILL after the
     * grace period. Bounded, in case members linger as zombies nobody reaps.
     */
    const awaitGroupGone = (graceEnds: number): void => {
      const giveUp = graceEnds + lingerMs;
      const check = async (): Promise<void> => {
        const now = performance.now();
        if ((exit && !(await tree.isAlive())) || now >= giveUp) {
          groupGone = true;
          return drainThenFinish();
        }
        if (!killed && now >= graceEnds) {
          killed = true;
          tree.kill();
        }
        timers.push(setTimeout(() => void check(), pollMs));
      };
      void check();
    };

    function onAbort(): void {
      if (stopped || exit || pid === undefined) return;
      stopped = true;
      tree.terminate();
      awaitGroupGone(performance.now() + request.killGraceMs);
    }

    child.once('exit', (code, signal) => {
      exit = { code, signal };
      if (stopped) return; // awaitGroupGone finishes
      // The command is done; anything it left running is not wanted.
      tree.killLeftovers();
      groupGone = true;
      drainThenFinish();
    });
    child.once('close', () => {
      closed = true;
      if (groupGone) finish();
    });

    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
  });
}
