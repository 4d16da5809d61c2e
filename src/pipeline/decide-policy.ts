// The policy decides allow, ask or deny for this tool, principal and arguments. A
// denial is refused here with the rule's reason; `ask` goes on to the approval step.
import { ErrorCode, ToolportError } from '../core/errors.js';
import type { ExposedTool } from '../core/registry.js';
import { decide, type CompiledPolicy, type Decision } from '../policy/decide.js';
import type { ToolCall } from './call.js';

/** Decides for one tool; `args` undefined decides without arguments (tools/list). */
export type ToolDecider = (tool: ExposedTool, principal: string, args: Record<string, unknown> | undefined) => Decision;

export function createToolDecider(policy: CompiledPolicy): ToolDecider {
  return (tool, principal, args) =>
    decide(policy, { tool: tool.name, plugin: tool.plugin.id, kind: tool.kind, principal, args, sideEffects: tool.sideEffects });
}

export function decidePolicy(call: ToolCall, decideFor: ToolDecider): void {
  const decision = decideFor(call.tool, call.context.principal, call.input);
  call.decision = decision;
  if (decision.action === 'deny') {
    throw new ToolportError(
      ErrorCode.CallDenied,
      `${call.name} is not allowed: ${decision.reason ?? `denied by ${decision.because}`}. Do not retry it; tell the user or take another route.`,
      { pluginId: call.tool.plugin.id },
    );
  }
}
