// The audit log: one JSON line per call, appended before the result goes back to the
// client. Argument values only when configured; known secrets scrubbed from every line.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { SecretSet } from '../core/redact.js';

export interface AuditRecord {
  time: string;
  callId: string;
  session: string | undefined;
  principal: string;
  client: string | undefined;
  tool: string;
  plugin: string | undefined;
  argsDigest: string;
  args?: unknown;
  decision: string | undefined;
  rule: string | undefined;
  approver: string | undefined;
  channel: string | undefined;
  durationMs: number;
  /** ok | error (the plugin answered isError) | denied | rejected | timeout | cancelled | failed | input_required */
  outcome: string;
  message?: string;
}

export interface AuditLog {
  readonly includeArguments: boolean;
  write(record: AuditRecord): Promise<void>;
}

export function createAuditLog(path: string, options: { includeArguments: boolean; secrets: SecretSet }): AuditLog {
  let ready: Promise<unknown> | undefined;
  // Appends are chained so lines never interleave and keep call order.
  let tail: Promise<void> = Promise.resolve();
  return {
    includeArguments: options.includeArguments,
    write(record) {
      ready ??= mkdir(dirname(path), { recursive: true });
      const line = `${options.secrets.redact(JSON.stringify(record))}\n`;
      const next = tail.then(async () => {
        await ready;
        await appendFile(path, line, { mode: 0o600 });
      });
      tail = next.catch(() => {});
      return next;
    },
  };
}
