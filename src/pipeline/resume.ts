// A 2026-07-28 request may be the retry of a call that asked something: its signed state
// says what was asked and holds the answers so far. Checked once, here, before anything is
// asked again: a state of another call starts afresh, a state used before is refused.
import { ErrorCode, ToolportError } from '../core/errors.js';
import type { SingleUseStore } from '../policy/single-use.js';
import { ReplayedStateError, freshRoundTrip, openRoundTrip } from '../policy/round-trip.js';
import type { ToolCall } from './call.js';

/** Answers at once (no promise) for a call that is not a 2026-07-28 retry. */
export function resumeRoundTrip(call: ToolCall, singleUse: SingleUseStore): void | Promise<void> {
  const channel = call.options.roundTrip;
  if (!channel) return;
  // A first request: nothing to check, and the digest only once something is asked.
  if (channel.state === undefined) {
    call.trip = freshRoundTrip(channel, () => call.digest());
    return;
  }
  return openState(call, channel, singleUse);
}

async function openState(call: ToolCall, channel: NonNullable<ToolCall['options']['roundTrip']>, singleUse: SingleUseStore): Promise<void> {
  try {
    call.trip = await openRoundTrip(channel, () => call.digest(), singleUse);
  } catch (error) {
    // A replayed approval is a rejected approval, for the audit log as for the model.
    if (error instanceof ReplayedStateError && error.approval) call.answer = { approved: false, channel: 'input_required', reason: error.shortMessage };
    if (error instanceof ReplayedStateError) throw new ToolportError(ErrorCode.CallDenied, `${call.name} was not run: ${error.shortMessage}`, { pluginId: call.tool.plugin.id });
    throw error;
  }
}
