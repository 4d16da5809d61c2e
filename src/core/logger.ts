// The logger: pino writing to stderr only, because stdout belongs to the stdio transport.
// Known secret values are scrubbed from every line before it is written.
import { pino, type Logger as PinoLogger } from 'pino';
import { createSecretSet, type SecretSet } from './redact.js';

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

export function createLogger(level: LogLevel = 'info', secrets: SecretSet = createSecretSet()): Logger {
  const stream = {
    write(line: string): void {
      process.stderr.write(secrets.size > 0 ? secrets.redact(line) : line);
    },
  };
  return pino({ level, base: { name: 'toolport' }, redact: { paths: redactPaths, censor: '[redacted]' } }, stream);
}

/** A logger that drops everything, for library use and tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
