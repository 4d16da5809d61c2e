// Helpers for the adversarial tests: the CLI in a fresh process (so that toolport's own
// environment block holds the secrets an attacker goes after) and a loopback server that
// counts the connections it accepts; and, from the shared helpers, whether bubblewrap works
// here and the processes found from outside any sandbox.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer } from 'node:net';
import { binPath, repoRoot } from '../helpers/toolport-process.js';
import { runCli as runCliWith, type CliResult } from '../helpers/run-cli.js';


export { bwrapWorks, needsBwrap } from '../helpers/sandbox.js';
export { pidsInFolder, pidsWithMarker, waitFor } from '../helpers/processes.js';

/** What toolport is started with in these tests, as an operator would: tokens in its environment. */
export const secrets = {
  TOOLPORT_ADMIN_TOKEN: 'admin-7d41c0ffee-never-leak',
  TOOLPORT_TOKEN: 'bearer-5e9b-never-leak',
} as const;

/** Runs the built CLI in a fresh process whose environment holds `secrets` plus `env`. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliWith(args, { env: { ...secrets, ...env } });
}

export interface StdioServer {
  readonly process: ChildProcessWithoutNullStreams;
  /** Everything it wrote to stderr so far (its log at level info). */
  stderr(): string;
}

/**
 * Starts `toolport serve --config CONFIG --stdio` (with `secrets` in its environment) and sends
 * it a tools/call of `tool`, which is not awaited: for tests that kill toolport mid-call.
 */
export function serveAndCall(config: string, tool: string, args: Record<string, unknown>): StdioServer {
  const child = spawn(process.execPath, [binPath, 'serve', '--config', config, '--stdio', '--log-level', 'info'], {
    cwd: repoRoot,
    env: { ...process.env, ...secrets },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  const send = (message: unknown): void => void child.stdin.write(`${JSON.stringify(message)}\n`);
  send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'attack', version: '1' } } });
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: tool, arguments: args } });
  return { process: child, stderr: () => stderr };
}

/** SIGKILLs a server and waits until it is gone. */
export async function killHard(server: StdioServer): Promise<void> {
  const exited = new Promise((resolve) => server.process.once('exit', resolve));
  server.process.kill('SIGKILL');
  await exited;
}

export interface CountingServer {
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

/** A TCP server on the host's loopback that greets and counts every connection. */
export async function startCountingServer(greeting: string): Promise<CountingServer> {
  let count = 0;
  const server = createServer((socket) => {
    count += 1;
    socket.end(greeting);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => count,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
