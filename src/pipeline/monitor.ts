// What the pipeline tells an observer (metrics, traces, the console's live view) about each
// call: that it began, the two steps that take time (the approval wait, the plugin call),
// and how it ended with the call's audit record. Without a monitor the pipeline pays nothing;
// an observer leaves out what it does not watch (traces alone need no record of the end).
import type { CallEnding } from '../core/tool.js';
import type { AuditRecord } from '../policy/audit.js';
import type { CallState, ToolCall } from './call.js';

export type { CallScope } from './call.js';

export interface CallMonitor {
  /** A call arrived, before any step ran. */
  started?(call: CallState): void;
  /** Runs the approval wait (a span, the pending gauge); `call.answer` is set when it resolved. */
  approval<T>(call: ToolCall, wait: () => Promise<T>): Promise<T>;
  /** Runs the plugin call. */
  plugin?<T>(call: ToolCall, run: () => Promise<T>): Promise<T>;
  /** The call ended; `record` is its audit `end` record (arguments as the audit would hold them). */
  ended?(call: CallState, ending: CallEnding, record: AuditRecord): void;
}
