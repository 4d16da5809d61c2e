// Approvals for calls the policy says to `ask` about, as a chain that fails closed:
// 1. the client, if it can show a form (elicitation pushed on 2025-era connections, the
//    input_required round trip on 2026-07-28 requests); 2. the out-of-band inbox, if one is
// configured; 3. refusal that says how to approve. Every approval is bound to the digest
// of the exact tool and arguments; any error in the chain refuses.
import type { ElicitRequestFormParams } from '@modelcontextprotocol/server';
import { raceSignal } from '../core/abort.js';
import { describeThrown } from '../core/errors.js';
import type { ProgressReporter } from '../core/tool.js';
import {
  type ApprovalAnswer,
  type ApprovalChannel,
  type ApprovalChannelName,
  type ApprovalPending,
  type ApprovalRequest,
  type AskingChannel,
} from './approval-types.js';
import type { ApprovalInbox } from './inbox.js';

export interface ApprovalChainOptions {
  inbox: ApprovalInbox | undefined;
  timeoutMs: number;
}

export interface ApprovalChain {
  /** The answer, or a pending round trip whose answer comes with a retried request. */
  approve(
    request: ApprovalRequest,
    channel: ApprovalChannel,
    options: { signal: AbortSignal; progress: ProgressReporter },
  ): Promise<ApprovalAnswer | ApprovalPending>;
  /** Drops the "for this session" approvals of a closed session. */
  forgetSession(sessionKey: string): void;
}

export function approvalForm(request: ApprovalRequest): ElicitRequestFormParams {
  const permissions = request.permissions.length > 0 ? request.permissions.join(', ') : 'none';
  return {
    message: [
      `Allow ${request.tool}?`,
      `Plugin: ${request.plugin} (${request.kind})`,
      `Arguments: ${JSON.stringify(request.args)}`,
      `Declared permissions: ${permissions}`,
      `Asked because of ${request.because}.`,
      ...(request.change !== undefined ? [request.change] : []),
    ].join('\n'),
    requestedSchema: {
      type: 'object',
      properties: {
        decision: {
          type: 'string',
          title: 'Decision',
          oneOf: [
            { const: 'once', title: 'Approve once' },
            { const: 'session', title: 'Approve this call for the rest of the session' },
            { const: 'reject', title: 'Reject' },
          ],
        },
        reason: { type: 'string', title: 'Reason', description: 'Told to the model when you reject.' },
      },
      required: ['decision'],
    },
  };
}

/** Turns the client's answer to the approval form into a decision; anything odd rejects. */
export function interpretAnswer(result: unknown, channel: ApprovalChannelName, approver: string): ApprovalAnswer {
  if (typeof result !== 'object' || result === null) return { approved: false, channel, reason: 'the approval answer was malformed' };
  const { action, content } = result as { action?: unknown; content?: Record<string, unknown> };
  if (action === 'decline') return { approved: false, channel, approver, reason: 'the user declined the call' };
  if (action === 'cancel') return { approved: false, channel, approver, reason: 'the user dismissed the approval prompt' };
  if (action !== 'accept') return { approved: false, channel, reason: 'the approval answer was malformed' };
  const decision = content?.decision;
  if (decision === 'once' || decision === 'session') return { approved: true, channel, approver, scope: decision };
  const reason = typeof content?.reason === 'string' && content.reason.trim() !== '' ? content.reason.trim() : 'no reason given';
  if (decision === 'reject') return { approved: false, channel, approver, reason: `the user rejected the call: ${reason}` };
  return { approved: false, channel, reason: 'the approval answer was malformed' };
}

/** Why nobody could be asked: names the channels the rule allows and what each would need. */
function noChannelReason(request: ApprovalRequest): string {
  const needs: Record<AskingChannel, string> = {
    elicitation: 'a client that shows approval prompts (elicitation)',
    input_required: 'a 2026-07-28 client that answers input_required',
    inbox: 'the approval inbox (set approvals.admin.token to approve calls with `toolport approvals`)',
  };
  const allowed = request.channels.map((name) => needs[name]).join(', or ');
  return `this call needs approval through ${allowed}, and none of these is available here (approvals.channels says who may approve; or add a policy rule that allows the tool)`;
}

export function createApprovalChain(options: ApprovalChainOptions): ApprovalChain {
  const sessionApprovals = new Map<string, Set<string>>();

  async function ask(
    request: ApprovalRequest,
    channel: ApprovalChannel,
    signal: AbortSignal,
    progress: ProgressReporter,
  ): Promise<ApprovalAnswer | ApprovalPending> {
    const remembered = channel.sessionKey ? sessionApprovals.get(channel.sessionKey) : undefined;
    if (remembered?.has(request.digest)) return { approved: true, channel: 'session', scope: 'session', approver: 'earlier approval in this session' };

    if (channel.preApproved) return { approved: true, channel: 'cli', scope: 'once', approver: channel.preApproved };
    // Each channel the rule allows, in its order; the first one this call can use asks.
    for (const name of request.channels) {
      if (name === 'input_required' && channel.roundTrip) return roundTrip(request, channel.roundTrip);
      if (name === 'elicitation' && channel.elicit) {
        const result = await raceSignal(channel.elicit(approvalForm(request)), signal);
        return interpretAnswer(result, 'elicitation', `client of ${request.principal}`);
      }
      if (name === 'inbox' && options.inbox) {
        return options.inbox.wait(request, {
          signal,
          timeoutMs: options.timeoutMs,
          // Progress keeps clients from timing out while a person decides, and shows how much
          // of the approval's time has passed (the plugin's own progress continues from there).
          onWaiting: (id, waitedMs) => {
            const left = Math.max(0, Math.round((options.timeoutMs - waitedMs) / 1000));
            progress(Math.round(waitedMs / 1000), Math.round(options.timeoutMs / 1000), `waiting for approval ${id} (toolport approvals approve ${id}); expires in ${left} s`);
          },
        });
      }
    }
    return { approved: false, channel: 'none', reason: noChannelReason(request) };
  }

  /**
   * The 2026-07-28 round trip: ask, or take the answer a retry brings. The round trip
   * checked the signed state (this exact call, used once) before the answer got here.
   */
  async function roundTrip(request: ApprovalRequest, trip: NonNullable<ApprovalChannel['roundTrip']>): Promise<ApprovalAnswer | ApprovalPending> {
    if (trip.response !== undefined) return interpretAnswer(trip.response, 'input_required', `client of ${request.principal}`);
    return { pending: await trip.ask(approvalForm(request)) };
  }

  return {
    async approve(request, channel, { signal, progress }) {
      let answer: ApprovalAnswer | ApprovalPending;
      try {
        answer = await ask(request, channel, signal, progress);
      } catch (error) {
        if (signal.aborted) throw error;
        // Fail closed: a broken prompt is a refusal, never a pass.
        return { approved: false, channel: channel.elicit ? 'elicitation' : 'none', reason: `the approval request failed (${describeThrown(error)})` };
      }
      if ('pending' in answer) return answer;
      if (answer.approved && answer.scope === 'session' && channel.sessionKey) {
        let set = sessionApprovals.get(channel.sessionKey);
        if (!set) sessionApprovals.set(channel.sessionKey, (set = new Set()));
        set.add(request.digest);
      }
      return answer;
    },
    forgetSession(sessionKey) {
      sessionApprovals.delete(sessionKey);
    },
  };
}

