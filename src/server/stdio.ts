// The stdio transport: one dual-era MCP connection over this process's stdin/stdout.
// stdout carries protocol messages only, so console output is sent to stderr. When stdin
// ends, the requests already read are answered before the connection is done.
import type { Writable } from 'node:stream';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Logger } from '../core/logger.js';
import type { ServerHub } from './mcp-server.js';
import { createStdioLineTransport } from './stdio-transport.js';

export interface StdioHandle {
  /**
   * Resolves when the connection is done: stdin ended and the requests read before were
   * answered (or cancelled after the grace), stdout failed, or close() was called.
   */
  readonly closed: Promise<void>;
  close(): Promise<void>;
}

export interface StdioOptions {
  /** Longest line read, in bytes. Default 10 MiB. */
  maxLineBytes?: number;
  /** How long requests still running when stdin ends may take before they are cancelled. Default 2 s. */
  endGraceMs?: number;
  /** Where protocol messages go (see claimStdout); default process.stdout. */
  stdout?: Writable;
}

/** After the grace, how long cancelled calls get to send the answer that says so. */
const cancelledAnswerMs = 1_000;
/** Once every request read is answered, how long stdout may take to take the answers' bytes (a slow reader, a large answer). */
const writtenMs = 10_000;

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

export function serveOverStdio(hub: ServerHub, logger: Logger, options: StdioOptions = {}): StdioHandle {
  routeConsoleToStderr();
  const graceMs = options.endGraceMs ?? 2_000;
  // Fires when stdin has ended and the grace is over: the calls still running are cancelled.
  const stopCalls = new AbortController();
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const answerWhatWasRead = async (): Promise<void> => {
    logger.info({ unanswered: wire.unanswered }, 'stdin closed; answering the requests already read');
    if (!(await wire.whenAnswered(graceMs))) {
      logger.warn({ unanswered: wire.unanswered, graceMs }, 'requests still running after the grace; cancelling them');
      stopCalls.abort(new Error('stdin closed'));
      if (!(await wire.whenAnswered(cancelledAnswerMs))) logger.warn({ unanswered: wire.unanswered }, 'requests left unanswered');
    }
    // The answers are written; a client reading slowly may not have all their bytes yet.
    if (!(await wire.whenWritten(writtenMs))) logger.warn({ waitedMs: writtenMs }, 'the client did not read every answer in time; exiting without the rest');
    resolveClosed();
  };

  const wire = createStdioLineTransport({
    input: process.stdin,
    output: options.stdout ?? process.stdout,
    logger,
    ...(options.maxLineBytes !== undefined && { maxLineBytes: options.maxLineBytes }),
    onInputEnd: () => void answerWhatWasRead(),
    onClosed: () => resolveClosed(),
  });
  const handle = serveStdio((context) => hub.createStdioServer(context, { transport: 'stdio', principal: 'local', signal: stopCalls.signal }), {
    transport: wire,
    onerror: (error) => logger.warn({ err: error }, 'stdio transport error'),
  });
  let closing: Promise<void> | undefined;
  return {
    closed,
    close() {
      closing ??= (async () => {
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
