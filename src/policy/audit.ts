// The audit log: JSON lines, appended in order. A call that reaches its plugin gets a `start`
// line before the plugin runs and an `end` line with the outcome before the answer goes back;
// a call refused earlier gets its `end` line only. Argument values only when configured;
// known secrets scrubbed from every line.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SecretSet } from '../core/redact.js';

export interface AuditRecord {
  time: string;
  /** `start`: the plugin is about to run; `end`: how the call ended. */
  phase: 'start' | 'end';
  callId: string;
  session: string | undefined;
  principal: string;
  client: string | undefined;
  tool: string;
  plugin: string | undefined;
  /** Always in the audit log; in the console's copy only when a step computed it. */
  argsDigest: string | undefined;
  args?: unknown;
  decision: string | undefined;
  rule: string | undefined;
  approver: string | undefined;
  channel: string | undefined;
  durationMs?: number;
  /** ok | error (the plugin answered isError) | denied | rejected | timeout | cancelled | failed | input_required | … (end only) */
  outcome?: string;
  message?: string;
}

/** A tool's definition no longer matches its pin, or a change was approved (see policy/pins.ts). */
export interface PinAuditRecord {
  time: string;
  phase: 'pin';
  tool: string;
  plugin: string;
  change: 'changed' | 'new' | 'approved';
  action: 'quarantine' | 'ask' | 'warn' | 'pinned';
  changed: string;
  pinnedDigest: string | undefined;
  currentDigest: string;
}

export interface AuditLog {
  readonly includeArguments: boolean;
  /** Appends one line; rejects when it could not be written. */
  write(record: AuditRecord | PinAuditRecord): Promise<void>;
  /** Resolves once every line written so far is in the file (or failed). */
  flush(): Promise<void>;
}

/** The record as one line; argument values that cannot be written as JSON are left out, saying so. */
function toLine(record: AuditRecord | PinAuditRecord): string {
  try {
    return JSON.stringify(record);
  } catch {
    return JSON.stringify({ ...record, args: '[not recorded: not writable as JSON]' });
  }
}

export function createAuditLog(path: string, options: { includeArguments: boolean; secrets: SecretSet }): AuditLog {
  let ready: Promise<unknown> | undefined;
  // Appends are chained so lines never interleave and keep call order.
  let tail: Promise<void> = Promise.resolve();
  return {
    includeArguments: options.includeArguments,
    write(record) {
      // Made once; a folder that could not be made is tried again by the next line (the
      // operator may have fixed it: calls must not stay refused until a restart).
      ready ??= mkdir(dirname(path), { recursive: true }).catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
      const line = `${options.secrets.redact(toLine(record))}\n`;
      const next = tail.then(async () => {
        await ready;
        await appendFile(path, line, { mode: 0o600 });
      });
      tail = next.catch(() => {});
      return next;
    },
    flush: () => tail,
  };
}
