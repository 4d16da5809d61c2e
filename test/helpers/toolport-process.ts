// Test helpers that run the built CLI for real: an HTTP server on a free loopback port
// (also from a config written to a scratch folder), a stdio server spawned by an SDK
// client or driven line by line; clients for every transport and era; reading a file's lines.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, SSEClientTransport, StreamableHTTPClientTransport, type ClientOptions } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const binPath = fileURLToPath(new URL('../../bin/toolport.js', import.meta.url));

export interface RunningServer {
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<number | null>;
}

/**
 * Resolves with the base URL (without /mcp) once a `toolport serve --http` process says where
 * it listens; rejects when it exits first or is silent for `timeoutMs`. `stderr` adds what it said.
 */
export function waitForServing(child: ChildProcess, stderr: () => string = () => '', timeoutMs = 20_000): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs / 1000} s; stderr:\n${stderr()}`)), timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /serving at (http:\/\/\S+)\/mcp/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; stderr:\n${stderr()}`));
    });
  });
}

/** Starts `toolport serve ARGS --http --port 0` and waits until it says where it listens. */
export async function startHttpServer(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [binPath, 'serve', ...args, '--http', '--port', '0', '--log-level', 'info'], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await waitForServing(child, () => stderr);
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return {
    url,
    process: child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

export type Era = 'stdio' | 'stdio-modern' | 'http-2025' | 'http-2026' | 'sse';
export const allTransports: readonly Era[] = ['stdio', 'http-2025', 'http-2026', 'sse'];

export interface ClientTarget {
  /** Arguments after `toolport serve` for stdio targets. */
  serveArgs?: readonly string[];
  /** Base URL (without /mcp) for HTTP targets. */
  url?: string;
  headers?: Record<string, string>;
  env?: Record<string, string>;
}

/** An SDK v2 client connected to toolport over one transport and era. */
export async function connectClient(era: Era, target: ClientTarget, options: ClientOptions = {}): Promise<Client> {
  const modern = era === 'http-2026' || era === 'stdio-modern';
  const client = new Client(
    { name: 'toolport-test', version: '1.0.0' },
    { ...options, ...(modern && { versionNegotiation: { mode: { pin: '2026-07-28' } } }) },
  );
  const requestInit = target.headers ? { headers: target.headers } : undefined;
  if (era === 'stdio' || era === 'stdio-modern') {
    if (!target.serveArgs) throw new Error('stdio targets need serveArgs');
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [binPath, 'serve', ...target.serveArgs, '--stdio', '--log-level', 'warn'],
        cwd: repoRoot,
        env: { ...(process.env as Record<string, string>), ...target.env },
        stderr: 'pipe',
      }),
    );
    return client;
  }
  if (!target.url) throw new Error('HTTP targets need a url');
  if (era === 'sse') {
    await client.connect(new SSEClientTransport(new URL(`${target.url}/sse`), requestInit ? { requestInit, eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...init?.headers, ...target.headers } }) } } : {}));
    return client;
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(`${target.url}/mcp`), requestInit ? { requestInit } : {}));
  return client;
}

export interface ConfiguredServer extends RunningServer {
  /** The scratch folder holding the config (removed by stop). */
  readonly dir: string;
  readonly configPath: string;
}

/**
 * Writes `lines` as toolport.yaml in a new scratch folder (after `prepare`, which may put
 * hook modules or data there) and starts `toolport serve --config` over HTTP on it.
 */
export async function serveConfig(
  lines: readonly string[] | ((dir: string) => readonly string[]),
  options: { env?: NodeJS.ProcessEnv; prepare?: (dir: string) => Promise<void> } = {},
): Promise<ConfiguredServer> {
  const dir = await mkdtemp(join(tmpdir(), 'toolport-test-'));
  const configPath = join(dir, 'toolport.yaml');
  await options.prepare?.(dir);
  await writeFile(configPath, `${(typeof lines === 'function' ? lines(dir) : lines).join('\n')}\n`);
  let server: RunningServer;
  try {
    server = await startHttpServer(['--config', configPath], options.env ? { env: options.env } : {});
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...server,
    dir,
    configPath,
    async stop() {
      const code = await server.stop();
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  };
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to its end; a non-zero exit is a result, not a throw. */
export function runToEnd(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd: options.cwd ?? repoRoot, env: options.env ?? process.env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `toolport ARGS` with the built CLI, with extra environment variables. */
/**
 * Connects `client` over HTTP with sessions without ever opening the standalone GET stream
 * (optional for a client: server requests then reach it only on a call's own response stream).
 */
export async function connectWithoutStandaloneStream(client: Client, baseUrl: string, headers?: Record<string, string>): Promise<void> {
  const noStandaloneStream: typeof fetch = (input, init) =>
    (init?.method ?? 'GET') === 'GET' ? Promise.resolve(new Response(null, { status: 405 })) : fetch(input, init);
  await client.connect(new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { ...(headers && { requestInit: { headers } }), fetch: noStandaloneStream }));
}

/**
 * The test file's own state and cache folders (test/helpers/isolated-state.ts), for a toolport
 * launched with an environment of its own (as a desktop client does): without them it would
 * use the real home's state folder.
 */
export function isolatedStateEnv(): Record<string, string> {
  const state = process.env.TOOLPORT_STATE_DIR;
  const cache = process.env.TOOLPORT_CACHE_DIR;
  if (!state || !cache) throw new Error('no TOOLPORT_STATE_DIR/TOOLPORT_CACHE_DIR: the test setup (test/helpers/isolated-state.ts) did not run');
  return { TOOLPORT_STATE_DIR: state, TOOLPORT_CACHE_DIR: cache };
}

export function runToolport(args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return runToEnd(process.execPath, [binPath, ...args], { ...options, env: { ...process.env, ...options.env } });
}

/** The non-empty lines of a file; none when it does not exist (yet). */
export async function readLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export type JsonRpcReply = Record<string, unknown>;

/** A raw 2025-11-25 `initialize` request (id 1), as a client without the SDK sends it. */
export const initializeRequest = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
} as const;

export interface StdioProcess {
  readonly process: ChildProcess;
  /** Writes one line (a message is serialised as JSON) to the server's stdin. */
  send(message: string | object): void;
  /** The message the server sent with this id, waiting up to `timeoutMs` for it. */
  reply(id: number | string, timeoutMs?: number): Promise<JsonRpcReply>;
  /** Every message the server wrote to stdout so far, in order. */
  readonly messages: readonly JsonRpcReply[];
  /** stdout lines that were not JSON (there must be none). */
  readonly nonJson: readonly string[];
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Closes stdin and waits up to `timeoutMs` for the exit (then kills it); says how long the exit took. */
  end(timeoutMs?: number): Promise<{ code: number | null; ms: number }>;
}

/** Starts `toolport serve ARGS --stdio` and talks to it line by line, as a raw client would. */
export function startStdioProcess(args: readonly string[], options: { logLevel?: string } = {}): StdioProcess {
  const child = spawn(process.execPath, [binPath, 'serve', ...args, '--stdio', '--log-level', options.logLevel ?? 'info'], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // The server may exit while a big line is still being written; that is the test's to judge.
  child.stdin.on('error', () => {});
  const messages: JsonRpcReply[] = [];
  const nonJson: string[] = [];
  const waiters = new Map<number | string, (message: JsonRpcReply) => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: JsonRpcReply;
    try {
      message = JSON.parse(line) as JsonRpcReply;
    } catch {
      nonJson.push(line);
      return;
    }
    messages.push(message);
    const id = message.id as number | string | undefined | null;
    if (id !== undefined && id !== null && !('method' in message)) waiters.get(id)?.(message);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const findReply = (id: number | string): JsonRpcReply | undefined => messages.find((message) => message.id === id && !('method' in message));
  return {
    process: child,
    send(message) {
      child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`);
    },
    reply(id, timeoutMs = 10_000) {
      const known = findReply(id);
      if (known) return Promise.resolve(known);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply to ${String(id)} in ${timeoutMs} ms; stderr:\n${stderr.slice(-2000)}`)), timeoutMs);
        waiters.set(id, (message) => {
          clearTimeout(timer);
          resolve(message);
        });
      });
    },
    messages,
    nonJson,
    stderr: () => stderr,
    exited,
    async end(timeoutMs = 10_000) {
      const started = Date.now();
      child.stdin.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const code = await exited;
      clearTimeout(killer);
      return { code, ms: Date.now() - started };
    },
  };
}
