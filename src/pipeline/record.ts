// Step 12: how the call ended goes to the audit log (one JSON line, before the answer goes
// back) and, when it ended without an answer from the plugin, to tool_error handlers.
import { ErrorCode, describeThrown, isToolportError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { CallEnding } from '../core/tool.js';
import type { AuditLog, AuditRecord } from '../policy/audit.js';
import type { HookBus } from '../policy/hooks.js';
import { elapsedMs, type CallState } from './call.js';

export interface RecordDeps {
  readonly audit: AuditLog | undefined;
  readonly hooks: HookBus;
  readonly logger: Logger;
}

function outcomeOf(ending: CallEnding, call: CallState): string {
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
    default:
      return 'failed';
  }
}

function messageOf(error: unknown): string {
  return isToolportError(error) ? error.shortMessage : describeThrown(error);
}

export async function recordCall(call: CallState, ending: CallEnding, deps: RecordDeps): Promise<void> {
  if (ending.type === 'failed' && deps.hooks.wants('tool_error')) {
    deps.hooks.notify({
      type: 'tool_error',
      ...call.eventBase(),
      code: isToolportError(ending.error) ? ending.error.code : 'INTERNAL',
      message: messageOf(ending.error),
      durationMs: elapsedMs(call),
    });
  }
  const { audit } = deps;
  if (!audit) return;
  const { context, decision, answer } = call;
  const record: AuditRecord = {
    time: new Date().toISOString(),
    callId: context.callId,
    session: call.session,
    principal: context.principal,
    client: context.client ? `${context.client.name}/${context.client.version}` : undefined,
    tool: call.name,
    plugin: call.tool?.plugin.id,
    argsDigest: call.digest(),
    ...(audit.includeArguments && { args: call.args }),
    decision: decision?.action,
    rule: decision?.because,
    approver: answer?.approver,
    channel: answer?.channel,
    durationMs: elapsedMs(call),
    outcome: outcomeOf(ending, call),
    ...(ending.type === 'failed' && { message: messageOf(ending.error) }),
  };
  await audit.write(record).catch((error: unknown) => deps.logger.error({ err: error }, 'could not write the audit record'));
}
