// The logger: pino writing to stderr only, because stdout belongs to the stdio transport.
import { pino, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Keys whose values are secrets wherever they appear in a log record. */
const redactPaths = [
  'token',
  'secretToken',
  'relationshipToken',
  'authorization',
  'headers.authorization',
  '*.token',
  '*.secretToken',
  '*.relationshipToken',
  '*.authorization',
];

export function createLogger(level: LogLevel = 'info'): Logger {
  return pino(
    { level, base: { name: 'toolport' }, redact: { paths: redactPaths, censor: '[redacted]' } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything, for library use and tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
