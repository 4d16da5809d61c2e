// A call the policy said `ask` about waits for an approval from the chain (the
// client's prompt, the out-of-band inbox, or refusal). On 2026-07-28 the answer may have to
// come with a retried request: then the call ends here with an input_required result.
import type { InputRequiredResult } from '@modelcontextprotocol/server';
import { createCallSignal } from '../core/call-signal.js';
import { ErrorCode, ToolportError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { inputRequired } from '@modelcontextprotocol/server';
import type { ApprovalChannel, AskingChannel } from '../policy/approval-types.js';
import type { ApprovalChain } from '../policy/approvals.js';
import { approvalResponseKey, askRound } from '../policy/round-trip.js';
import type { Decision } from '../policy/decide.js';
import type { ToolCall } from './call.js';

export interface ApproveDeps {
  readonly approvals: ApprovalChain;
  /** `approvals.channels`, unless the deciding rule names its own. */
  readonly channels: readonly AskingChannel[];
  /** How long a call waits for a decision (approvals.timeoutSeconds). */
  readonly timeoutSeconds: number;
  readonly shutdown: AbortSignal;
  readonly logger: Logger;
}

/**
 * Resolves when the call may run, or with the input_required result to send; throws when
 * refused. Answers at once (no promise) for a call the policy lets through without asking.
 */
export function approveCall(call: ToolCall, deps: ApproveDeps): undefined | Promise<InputRequiredResult | undefined> {
  const { decision } = call;
  if (decision?.action !== 'ask') return undefined;
  return askForApproval(call, decision, deps);
}

async function askForApproval(call: ToolCall, decision: Decision, deps: ApproveDeps): Promise<InputRequiredResult | undefined> {
  const { name, tool, options, trip } = call;
  if (trip?.approved) {
    // An earlier round of this very call was approved; its state was claimed then.
    call.answer = { approved: true, channel: 'input_required', scope: 'once', approver: 'an earlier round of this call' };
    return undefined;
  }
  // A 2026-07-28 client that can show a form answers through the round trip.
  const channel: ApprovalChannel =
    trip && trip.channel.capabilities.elicitation
      ? {
          ...options.approval,
          roundTrip: {
            response: trip.approvalResponse,
            ask: (form) => askRound(trip, [{ key: approvalResponseKey, h: approvalResponseKey, request: inputRequired.elicit(form) }]),
          },
        }
      : (options.approval ?? {});
  const pluginId = tool.plugin.id;
  const waiting = createCallSignal({
    client: options.signal,
    connection: options.stop,
    shutdown: deps.shutdown,
    // The inbox has its own deadline; this bounds a prompt a client never answers.
    timeoutMs: deps.timeoutSeconds * 1000 + 1000,
    label: name,
    pluginId,
    timeoutMessage: `${name} was not run: nobody answered the approval prompt within ${deps.timeoutSeconds} s`,
  });
  let answer;
  try {
    answer = await Promise.race([
      deps.approvals.approve(
        {
          tool: name,
          plugin: pluginId,
          kind: tool.kind,
          principal: call.context.principal,
          sessionKey: options.approval?.sessionKey,
          client: call.eventBase().client,
          args: call.input,
          permissions: tool.definition.permissions ?? [],
          digest: call.digest(),
          because: decision.because,
          channels: decision.channels ?? deps.channels,
          ...(call.pinChange !== undefined && { change: call.pinChange }),
        },
        channel,
        { signal: waiting.signal, progress: call.progressPhase() },
      ),
      waiting.aborted,
    ]);
  } finally {
    waiting.dispose();
  }
  if ('pending' in answer) return answer.pending;
  call.answer = answer;
  if (!answer.approved) throw new ToolportError(ErrorCode.CallDenied, `${name} was not run: ${answer.reason}`, { pluginId });
  // Later rounds of this call (the plugin asking) need not ask again, whoever approved it: the
  // signed state of the round carries that, bound to this call's digest and used once.
  if (trip) trip.approved = true;
  deps.logger.info({ tool: name, approver: answer.approver, channel: answer.channel, scope: answer.scope }, 'call approved');
  return undefined;
}
