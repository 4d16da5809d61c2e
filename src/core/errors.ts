// The one error type of toolport: a string code, a short message for the model,
// the plugin it concerns, and the cause for the log. A config error also carries its
// problems one by one, so the command line can say on which line each one is.
import { formatIssues, type Issue } from './format.js';

export const ErrorCode = {
  /** The config file or a command-line value is invalid. */
  ConfigInvalid: 'CONFIG_INVALID',
  /** A plugin could not be loaded (bad manifest, missing file, unsupported kind). */
  PluginLoadFailed: 'PLUGIN_LOAD_FAILED',
  /** No tool of that exposed name. */
  ToolNotFound: 'TOOL_NOT_FOUND',
  /** The arguments do not match the tool's input schema. */
  ArgumentsInvalid: 'ARGUMENTS_INVALID',
  /** The call ran past its time limit. */
  CallTimeout: 'CALL_TIMEOUT',
  /** The client cancelled the call. */
  CallCancelled: 'CALL_CANCELLED',
  /** The plugin could not answer: it threw, crashed, or its process died. */
  PluginCrashed: 'PLUGIN_CRASHED',
  /** The plugin answered something toolport cannot turn into a result. */
  PluginBadOutput: 'PLUGIN_BAD_OUTPUT',
  /** The call was refused by policy or a grant check. */
  CallDenied: 'CALL_DENIED',
  /** A hook blocked the call, or withheld its result (also when the hook failed or ran out of time). */
  CallBlocked: 'CALL_BLOCKED',
  /** A rate limit or concurrency cap refused the call; it may be retried later. */
  RateLimited: 'RATE_LIMITED',
  /** The server is shutting down. */
  ShuttingDown: 'SHUTTING_DOWN',
  /** The audit record a call needs before it runs could not be written; the call did not run. */
  AuditUnavailable: 'AUDIT_UNAVAILABLE',
  /** The shared state (Redis) a call needs could not be reached; the call did not run. */
  StateUnavailable: 'STATE_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ToolportErrorOptions {
  cause?: unknown;
  pluginId?: string;
  /** Extra detail for the log only; never shown to the model. */
  detail?: string;
}

export class ToolportError extends Error {
  override readonly name = 'ToolportError';
  readonly code: ErrorCode;
  /** What the model (or the CLI user) is shown. Safe: no paths, secrets or stacks. */
  readonly shortMessage: string;
  readonly pluginId: string | undefined;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, shortMessage: string, options: ToolportErrorOptions = {}) {
    super(options.detail ? `${shortMessage}\n${options.detail}` : shortMessage, { cause: options.cause });
    this.code = code;
    this.shortMessage = shortMessage;
    this.pluginId = options.pluginId;
    this.detail = options.detail;
  }
}

/** A call refused by a limit, with how long to wait before retrying. */
export class RateLimitedError extends ToolportError {
  /** Milliseconds until a retry can succeed (an estimate for concurrency caps). */
  readonly retryAfterMs: number;

  constructor(shortMessage: string, retryAfterMs: number, options: ToolportErrorOptions = {}) {
    super(ErrorCode.RateLimited, shortMessage, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** An invalid config: every problem with its path in the config (and the file, when there is one). */
export class ConfigError extends ToolportError {
  readonly file: string | undefined;
  readonly issues: readonly Issue[];

  /** `where` puts the `file:line:column` of an issue in front of it, when it is known. */
  constructor(issues: readonly Issue[], options: ToolportErrorOptions & { file?: string | undefined; where?: (issue: Issue) => string | undefined } = {}) {
    const head = options.file ? `invalid config ${options.file}` : 'invalid config';
    super(ErrorCode.ConfigInvalid, `${head}:\n${formatIssues(issues, options.where).map((line) => `  ${line}`).join('\n')}`, options);
    this.file = options.file;
    this.issues = issues;
  }
}

export function isToolportError(value: unknown): value is ToolportError {
  return value instanceof ToolportError;
}

/** A readable one-line description of anything thrown, for messages and logs. */
export function describeThrown(value: unknown): string {
  if (value instanceof Error) return value.message ? `${value.name}: ${value.message}` : value.name;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
