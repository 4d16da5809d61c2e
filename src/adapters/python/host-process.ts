// One Python host process and its JSON-lines RPC on fd 3 (a socket pair): requests with
// ids, cancellation, requests and notifications from the host. The host's stdout and
// stderr carry only what the plugin prints, so they cannot corrupt the RPC stream.
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { spawnHost, type HostDescription } from '../../core/early-hosts.js';
import { createLineSplitter } from '../../core/line-splitter.js';
import { toProcessTree, toSignalOfExitCode } from '../../core/process-tree.js';
import { isPlainObject } from '../../core/tool.js';

export interface PythonErrorInfo {
  type: string;
  message: string;
  traceback?: string;
  file?: string;
  line?: number;
}

/** The host answered a request with a Python exception. */
export class HostRequestError extends Error {
  override readonly name = 'HostRequestError';
  constructor(readonly info: PythonErrorInfo) {
    super(`${info.type}: ${info.message}`);
  }
}

export interface HostExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why toolport stopped it, when it did. */
  reason: string | undefined;
}

/** The host process ended before it answered. */
export class HostExitedError extends Error {
  override readonly name = 'HostExitedError';
  constructor(readonly exit: HostExit) {
    super(`the Python host ${describeExit(exit)}`);
  }
}

export function describeExit(exit: HostExit): string {
  if (exit.reason) return `was stopped: ${exit.reason}`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? 'unknown'}`;
}

export interface HostHandlers {
  onNotification(method: string, params: Record<string, unknown>): void;
  onRequest(method: string, params: Record<string, unknown>): Promise<unknown>;
  onOutput(stream: 'stdout' | 'stderr', line: string): void;
}

export interface HostProcessOptions {
  /** The interpreter, or bwrap, its options and the interpreter inside the sandbox. */
  command: readonly [string, ...string[]];
  /** Whether `command` starts the host in a bubblewrap sandbox. */
  sandboxed: boolean;
  script: string;
  cwd: string;
  env: Readonly<Record<string, string>>;
  handlers: HostHandlers;
  /** How long a cancelled request may take to stop before the host is killed. */
  cancelGraceMs: number;
  /** A host started before toolport loaded, exactly as `describeHost` describes this one: used instead of a new one. */
  early?: ChildProcess | undefined;
}

export interface RequestOptions {
  signal?: AbortSignal;
}

export interface HostProcess {
  readonly pid: number;
  /** How it was started: what a later start may start early (core/early-hosts.ts). */
  readonly description: HostDescription;
  /** Whether it was started before toolport loaded. */
  readonly early: boolean;
  readonly startedAt: number;
  readonly exited: Promise<HostExit>;
  readonly alive: boolean;
  request(method: string, params: Record<string, unknown>, options?: RequestOptions): Promise<unknown>;
  /** Stops the process (and everything it started) at once. */
  kill(reason: string): void;
  /** Asks the host to stop (end of its RPC stream), then kills it after `graceMs`. */
  close(graceMs: number): Promise<HostExit>;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  /** Set once the caller gave up; the host's late answer is dropped. */
  abandoned: boolean;
  graceTimer?: NodeJS.Timeout;
}

const maxLoggedLine = 16 * 1024;

/** The host's program and arguments, working folder and environment, as startHostProcess starts it. */
export function describeHost(options: Pick<HostProcessOptions, 'command' | 'script' | 'cwd' | 'env'>): HostDescription {
  return { command: [...options.command, '-u', options.script], cwd: options.cwd, env: options.env };
}

/** Spawns the host; resolves once the process runs (loading the plugin is a request). */
export async function startHostProcess(options: HostProcessOptions): Promise<HostProcess> {
  const description = describeHost(options);
  const { early } = options;
  // Its own process group (or sandbox), so close() can stop whatever the plugin started too.
  const child: ChildProcess = early ?? spawnHost(description);
  if (!early) {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  }
  const pid = child.pid ?? -1;
  const rpc = child.stdio[3] as Socket;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let alive = true;
  let stopReason: string | undefined;

  const exited = new Promise<HostExit>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      // In the sandbox the exit is bwrap's, which reports the host's death by signal N as
      // 128 + N; toolport's host never exits with such a code itself.
      const sandboxSignal = options.sandboxed ? toSignalOfExitCode(code) : undefined;
      const exit: HostExit = sandboxSignal ? { code: null, signal: sandboxSignal, reason: stopReason } : { code, signal, reason: stopReason };
      for (const entry of pending.values()) {
        clearTimeout(entry.graceTimer);
        if (!entry.abandoned) entry.reject(new HostExitedError(exit));
      }
      pending.clear();
      rpc.destroy();
      resolve(exit);
    });
  });

  const write = (message: unknown): void => {
    if (!alive || rpc.destroyed) return;
    rpc.write(`${JSON.stringify(message)}\n`);
  };

  const tree = pid > 0 && process.platform !== 'win32' ? toProcessTree(pid, options.sandboxed) : undefined;
  const killGroup = (): void => {
    if (tree) tree.kill();
    else child.kill('SIGKILL');
  };

  const onMessage = (message: Record<string, unknown>): void => {
    const { id, method } = message;
    if (typeof method === 'string') {
      const params = isPlainObject(message.params) ? message.params : {};
      if (id === undefined) {
        options.handlers.onNotification(method, params);
        return;
      }
      options.handlers.onRequest(method, params).then(
        (result) => write({ id, result }),
        (error: unknown) => write({ id, error: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    if (typeof id !== 'number') return;
    const entry = pending.get(id);
    if (!entry) return;
    pending.delete(id);
    clearTimeout(entry.graceTimer);
    if (entry.abandoned) return;
    if (message.cancelled === true) entry.reject(new Error('cancelled'));
    else if (isPlainObject(message.error)) {
      const info = message.error;
      entry.reject(
        new HostRequestError({
          type: typeof info.type === 'string' ? info.type : 'Error',
          message: typeof info.message === 'string' ? info.message : '',
          ...(typeof info.traceback === 'string' && { traceback: info.traceback }),
          ...(typeof info.file === 'string' && { file: info.file }),
          ...(typeof info.line === 'number' && { line: info.line }),
        }),
      );
    } else entry.resolve(message.result);
  };

  const rpcLines = createLineSplitter((line) => {
    if (line.length === 0) return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      options.handlers.onOutput('stderr', `unreadable RPC line from the host: ${line.slice(0, 200)}`);
      return;
    }
    if (isPlainObject(message)) onMessage(message);
  });
  rpc.setEncoding('utf8');
  rpc.on('data', (chunk: string) => rpcLines.push(chunk));
  // A broken pipe shows up as the exit that follows; nothing to do here.
  rpc.on('error', () => {});

  for (const stream of ['stdout', 'stderr'] as const) {
    const source = child[stream];
    if (!source) continue;
    const lines = createLineSplitter((line) => options.handlers.onOutput(stream, line.length > maxLoggedLine ? `${line.slice(0, maxLoggedLine)}…` : line));
    source.setEncoding('utf8');
    source.on('data', (chunk: string) => lines.push(chunk));
    source.on('end', () => lines.end());
  }

  return {
    pid,
    description,
    early: early !== undefined,
    startedAt: Date.now(),
    exited,
    get alive() {
      return alive;
    },
    request(method, params, requestOptions = {}) {
      const { signal } = requestOptions;
      if (!alive) return Promise.reject(new HostExitedError({ code: child.exitCode, signal: child.signalCode, reason: stopReason }));
      if (signal?.aborted) return Promise.reject(signal.reason as Error);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const entry: Pending = { resolve, reject, abandoned: false };
        pending.set(id, entry);
        write({ id, method, params });
        if (!signal) return;
        const onAbort = (): void => {
          if (!pending.has(id)) return;
          entry.abandoned = true;
          reject(signal.reason as Error);
          write({ method: 'cancel', params: { id } });
          // A plugin that blocks its event loop cannot be cancelled; a stuck host is worse
          // than a restarted one.
          entry.graceTimer = setTimeout(() => {
            if (pending.get(id) !== entry) return;
            stopReason = `a cancelled call did not stop within ${options.cancelGraceMs} ms (blocking code in the plugin?)`;
            killGroup();
          }, options.cancelGraceMs);
          entry.graceTimer.unref();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const cleanup = (): void => signal.removeEventListener('abort', onAbort);
        entry.resolve = (value) => {
          cleanup();
          resolve(value);
        };
        entry.reject = (error) => {
          cleanup();
          reject(error);
        };
      });
    },
    kill(reason) {
      if (!alive) return;
      stopReason ??= reason;
      killGroup();
    },
    async close(graceMs) {
      if (alive) {
        stopReason ??= 'toolport closed the plugin';
        // End of the RPC stream tells the host to cancel its calls and exit.
        rpc.end();
        const timer = setTimeout(killGroup, graceMs);
        const exit = await exited;
        clearTimeout(timer);
        // Whatever the plugin started in the host's process group goes with it.
        if (tree) tree.killLeftovers();
        return exit;
      }
      return exited;
    },
  };
}
