// The audit log gets a line before the plugin
// runs (a call whose line cannot be written does not run) and a line with how the call
// ended, before the answer goes back; a call that ended without an answer from the plugin
// also goes to tool_error handlers and the log.
import { ErrorCode, ToolportError, describeThrown, isToolportError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CallEnding } from '../core/tool.js';
import type { AuditLog, AuditRecord } from '../policy/audit.js';
import type { HookBus } from '../policy/hooks.js';
import { elapsedMs, type CallState } from './call.js';
import type { CallMonitor } from './monitor.js';

export interface RecordDeps {
  readonly audit: AuditLog | undefined;
  readonly hooks: HookBus;
  readonly logger: Logger;
  readonly monitor?: CallMonitor | undefined;
}

/** Refusals the caller can act on: logged at info; anything else that failed at warn (once). */
const refusals: ReadonlySet<string> = new Set([
  ErrorCode.ArgumentsInvalid,
  ErrorCode.CallDenied,
  ErrorCode.CallBlocked,
  ErrorCode.RateLimited,
  ErrorCode.ToolNotFound,
  ErrorCode.CallCancelled,
  ErrorCode.ShuttingDown,
]);

/** Every way a call can end, as the audit log, the metrics and the console name it. */
export const callOutcomes = ['ok', 'error', 'denied', 'rejected', 'blocked', 'rate_limited', 'timeout', 'cancelled', 'invalid_arguments', 'unknown_tool', 'shutdown', 'state_unavailable', 'failed', 'input_required'] as const;
export type CallOutcome = (typeof callOutcomes)[number];

function outcomeOf(ending: CallEnding, call: CallState): CallOutcome {
  if (ending.type === 'answered') return ending.outcome.isError ? 'error' : 'ok';
  if (ending.type === 'input_required') return 'input_required';
  const { error } = ending;
  if (!isToolportError(error)) return 'failed';
  switch (error.code) {
    case ErrorCode.CallDenied:
      return call.answer !== undefined && !call.answer.approved ? 'rejected' : 'denied';
    case ErrorCode.CallBlocked:
      return 'blocked';
    case ErrorCode.RateLimited:
      return 'rate_limited';
    case ErrorCode.CallTimeout:
      return 'timeout';
    case ErrorCode.CallCancelled:
      return 'cancelled';
    case ErrorCode.ArgumentsInvalid:
      return 'invalid_arguments';
    case ErrorCode.ToolNotFound:
      return 'unknown_tool';
    case ErrorCode.ShuttingDown:
      return 'shutdown';
    case ErrorCode.StateUnavailable:
      return 'state_unavailable';
    default:
      return 'failed';
  }
}

function messageOf(error: unknown): string {
  return isToolportError(error) ? error.shortMessage : describeThrown(error);
}

/** The fields both lines of a call carry. */
function baseRecord(call: CallState, includeArguments: boolean, phase: AuditRecord['phase'], digest: string | undefined): AuditRecord {
  const { context, decision, answer } = call;
  return {
    time: new Date().toISOString(),
    phase,
    callId: context.callId,
    session: call.session,
    principal: context.principal,
    client: context.client ? `${context.client.name}/${context.client.version}` : undefined,
    tool: call.name,
    plugin: call.tool?.plugin.id,
    argsDigest: digest,
    // Arguments over the size or depth limits are never written, only their digest.
    ...(includeArguments && { args: call.argumentsWithinLimits ? call.args : '[not recorded: over the argument limits]' }),
    decision: decision?.action,
    rule: decision?.because,
    approver: answer?.approver,
    channel: answer?.channel,
  };
}

/** Writes the line that says the plugin is about to run; throws (and the call does not run) when it cannot. */
export function recordStart(call: CallState, deps: RecordDeps): void | Promise<void> {
  const { audit } = deps;
  // Without an audit log there is nothing to write, and no promise is made.
  if (!audit) return;
  return writeStart(call, audit, deps);
}

async function writeStart(call: CallState, audit: AuditLog, deps: RecordDeps): Promise<void> {
  try {
    await audit.write(baseRecord(call, audit.includeArguments, 'start', call.digest()));
  } catch (error) {
    deps.logger.error({ err: error, tool: call.name, callId: call.context.callId }, 'could not write the audit record; the call is not run');
    throw new ToolportError(ErrorCode.AuditUnavailable, `${call.name} was not run: its audit record could not be written (see the server log)`, {
      cause: error,
      pluginId: call.tool?.plugin.id,
    });
  }
}

/** Logs and reports how the call ended; returns a promise only when an audit record is written. */
export function recordEnd(call: CallState, ending: CallEnding, deps: RecordDeps): void | Promise<void> {
  if (ending.type === 'failed') {
    const { error } = ending;
    const code = isToolportError(error) ? error.code : 'INTERNAL';
    const fields = { tool: call.name, callId: call.context.callId, principal: call.context.principal, code };
    // Plugin failures are logged where they happen (call-plugin.ts); refusals and internal faults here.
    if (refusals.has(code)) deps.logger.info(fields, messageOf(error));
    else if (!isToolportError(error)) deps.logger.error({ ...fields, err: error }, 'the call failed inside toolport');
    if (deps.hooks.wants('tool_error')) {
      deps.hooks.notify({ type: 'tool_error', ...call.eventBase(), code, message: messageOf(error), durationMs: elapsedMs(call) });
    }
  }
  const { audit, monitor } = deps;
  const outcome = outcomeOf(ending, call);
  const { scope } = call.options;
  if (scope) {
    scope.plugin = call.tool?.plugin.id;
    scope.outcome = outcome;
  }
  if (!audit && !monitor?.ended) return;
  // Without an audit log (the monitor alone), the digest is shown only if a step computed it.
  const record = baseRecord(call, audit?.includeArguments === true, 'end', audit ? call.digest() : call.knownDigest());
  // Added in place (not spread into a copy): this runs on every call.
  record.durationMs = elapsedMs(call);
  record.outcome = outcome;
  if (ending.type === 'failed') record.message = messageOf(ending.error);
  monitor?.ended?.(call, ending, record);
  if (!audit) return;
  return audit.write(record).catch((error: unknown) => deps.logger.error({ err: error }, 'could not write the audit record'));
}
