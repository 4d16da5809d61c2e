// A tool whose definition no longer matches its pin (or a new tool of a pinned plugin):
// quarantined → refused, saying why and how to accept the change; ask → the call asks for
// approval, the prompt showing the change (a denial by the policy still stands); warn → runs.
import { ErrorCode, ToolportError } from '../core/errors.js';
import { changedParts, describeChangeForPrompt, withPinDecision, type PinGuard } from '../policy/pins.js';
import type { ToolCall } from './call.js';

export function checkPin(call: ToolCall, pins: Pick<PinGuard, 'verdict'>): void {
  const verdict = pins.verdict(call.tool);
  if (verdict.state === 'pinned' || verdict.action === 'warn') return;
  if (verdict.action === 'quarantine') {
    const why =
      verdict.state === 'new'
        ? 'it is a new tool of a plugin whose tools were pinned, and nobody has approved it yet'
        : `its ${changedParts(verdict.pinned?.definition, verdict.current.definition)} changed since it was pinned on ${verdict.pinned?.pinnedAt ?? 'an earlier start'}`;
    throw new ToolportError(
      ErrorCode.CallDenied,
      `${call.name} is quarantined and was not run: ${why}. An operator can review it with \`toolport pins diff ${call.name}\` and accept it with \`toolport pins approve ${call.name}\`. Do not retry it; tell the user.`,
      { pluginId: call.tool.plugin.id },
    );
  }
  if (!call.decision || call.decision.action === 'deny') return;
  call.decision = withPinDecision(call.decision, verdict);
  call.pinChange = describeChangeForPrompt(verdict);
}
