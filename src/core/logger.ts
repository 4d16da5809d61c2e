// The logger: pino writing to stderr only, because stdout belongs to the stdio transport.
// JSON lines, or readable lines (pino-pretty) for a person at a terminal. Known secret
// values are scrubbed from every line before it is written.
import { createRequire } from 'node:module';
import { pino, type Logger as PinoLogger } from 'pino';
import type PinoPretty from 'pino-pretty';
import { createSecretSet, type SecretSet } from './redact.js';

export type Logger = PinoLogger;
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];
export const logFormats = ['json', 'pretty'] as const;
export type LogFormat = (typeof logFormats)[number];

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

/** Readable lines for a terminal; pino-pretty is loaded only then. */
function createPrettifier(): (line: string) => string {
  const require = createRequire(import.meta.url);
  const { prettyFactory } = require('pino-pretty') as typeof PinoPretty;
  return prettyFactory({
    colorize: process.stderr.isTTY === true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,name',
    singleLine: true,
  });
}

export interface LoggerOptions {
  secrets?: SecretSet;
  /** Default: `pretty` when stderr is a terminal, else `json`. */
  format?: LogFormat;
}

/** Set once stderr cannot be written (its reader went away): logging stops instead of failing forever. */
let stderrBroken = false;
let stderrWatched = false;

/**
 * A write to stderr whose reader is gone fails with EPIPE as an 'error' event; unhandled, it
 * becomes an uncaught exception, whose log line fails the same way, for ever (a server whose
 * parent died would spin at full speed). The first failure stops logging instead.
 */
function watchStderr(): void {
  if (stderrWatched) return;
  stderrWatched = true;
  process.stderr.on('error', () => {
    stderrBroken = true;
  });
}

export function createLogger(level: LogLevel = 'info', options: LoggerOptions = {}): Logger {
  const secrets = options.secrets ?? createSecretSet();
  const format = options.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const prettify = format === 'pretty' ? createPrettifier() : undefined;
  watchStderr();
  const stream = {
    write(line: string): void {
      if (stderrBroken) return;
      const clean = secrets.size > 0 ? secrets.redact(line) : line;
      process.stderr.write(prettify ? prettify(clean) : clean);
    },
  };
  return pino({ level, base: { name: 'toolport' }, redact: { paths: redactPaths, censor: '[redacted]' } }, stream);
}

/** A logger that drops everything, for library use and tests. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
