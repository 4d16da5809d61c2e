// The stdio transport: one dual-era MCP connection over this process's stdin/stdout.
// stdout carries protocol messages only, so console output is sent to stderr.
import type { Writable } from 'node:stream';
import { StdioServerTransport, serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Logger } from '../core/logger.js';
import type { ServerHub } from './mcp-server.js';

export interface StdioHandle {
  /** Resolves when the client closed stdin or close() was called. */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

/** Plugins running in-process may print; keep that off the protocol stream. */
export function routeConsoleToStderr(): void {
  /* eslint-disable no-console -- this is the one place that redirects console output */
  const write = (...args: unknown[]): void => {
    process.stderr.write(`${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`);
  };
  console.log = write;
  console.info = write;
  console.debug = write;
  console.trace = write;
  console.dir = write;
  console.table = write;
  /* eslint-enable no-console */
}

/** `stdout`: where protocol messages go (see claimStdout); default process.stdout. */
export function serveOverStdio(hub: ServerHub, logger: Logger, options: { stdout?: Writable } = {}): StdioHandle {
  routeConsoleToStderr();
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  const handle = serveStdio((context) => hub.createStdioServer(context, { transport: 'stdio', principal: 'local' }), {
    onerror: (error) => logger.warn({ err: error }, 'stdio transport error'),
    ...(options.stdout && { transport: new StdioServerTransport(process.stdin, options.stdout) }),
  });
  const onEnd = (): void => {
    logger.info('stdin closed');
    resolveClosed();
  };
  process.stdin.once('end', onEnd);
  process.stdin.once('close', onEnd);
  let closing: Promise<void> | undefined;
  return {
    closed,
    close() {
      closing ??= (async () => {
        process.stdin.off('end', onEnd);
        process.stdin.off('close', onEnd);
        try {
          await handle.close();
        } finally {
          resolveClosed();
        }
      })();
      return closing;
    },
  };
}
