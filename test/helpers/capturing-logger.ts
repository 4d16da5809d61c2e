// A pino logger whose JSON lines a test can read back, as records and messages. Kept apart
// from the adapters' helpers: some of those import fixture builders that start threads.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../src/core/logger.js';

export interface LogRecord {
  level: number;
  msg: string;
  [key: string]: unknown;
}

export interface CapturingLogger {
  logger: Logger;
  records: LogRecord[];
  /** Messages at or above a level (30 info, 40 warn, 50 error). */
  messages(minLevel?: number): string[];
}

export function createCapturingLogger(level: 'debug' | 'info' = 'debug'): CapturingLogger {
  const records: LogRecord[] = [];
  let pending = '';
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) records.push(JSON.parse(line) as LogRecord);
      done();
    },
  });
  const logger = pino({ level }, sink);
  return {
    logger,
    records,
    messages: (minLevel = 0) => records.filter((record) => record.level >= minLevel).map((record) => record.msg),
  };
}
