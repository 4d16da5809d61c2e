// The call pipeline, assembled from its steps in the order they run:
//   look up → argument limits → validate arguments → decide (policy) → check grants → check
//   limits → approve → take limits → tool_call hooks → record start (audit) → call the plugin
//   → check the result → tool_result hooks (→ check the result again) → record end (audit, tool_error)
// Each step is a function in its own file; `run` resolves with how the call ended and never
// rejects, so one door (core/to-mcp-result.ts) turns every ending into MCP.
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/registry.js';
import type { CallEnding } from '../core/tool.js';
import type { AskingChannel } from '../policy/approval-types.js';
import type { ApprovalChain } from '../policy/approvals.js';
import type { AuditLog } from '../policy/audit.js';
import type { HookBus } from '../policy/hooks.js';
import type { RateLimiter } from '../policy/rate-limits.js';
import { approveCall } from './approve.js';
import { startCall, type CallState, type ToolCallOptions } from './call.js';
import { callPlugin } from './call-plugin.js';
import { checkGrants } from './check-grants.js';
import { checkResult } from './check-result.js';
import { decidePolicy, type ToolDecider } from './decide-policy.js';
import { acquireLimits, checkLimits } from './limit.js';
import { lookUpTool } from './look-up.js';
import type { CallMonitor } from './monitor.js';
import { recordEnd, recordStart } from './record.js';
import { runToolCallHooks, runToolResultHooks, wantsCallHooks } from './run-hooks.js';
import { checkArgumentLimits, validateArguments, type ArgumentLimits } from './validate-arguments.js';

export interface PipelineDeps {
  readonly registry: Registry;
  readonly decideFor: ToolDecider;
  readonly limiter: RateLimiter;
  readonly approvals: ApprovalChain;
  /** `approvals.timeoutSeconds`. */
  readonly approvalTimeoutSeconds: number;
  /** `approvals.channels`. */
  readonly approvalChannels: readonly AskingChannel[];
  readonly hooks: HookBus;
  readonly audit: AuditLog | undefined;
  readonly logger: Logger;
  /** `defaults.timeoutSeconds`. */
  readonly defaultTimeoutSeconds: number;
  readonly argumentLimits: ArgumentLimits;
  /** Fires when the server shuts down: new calls are refused, running ones stopped. */
  readonly shutdown: AbortSignal;
  /** Metrics, traces and the console's live view, when any is on. */
  readonly monitor?: CallMonitor | undefined;
}

export interface CallPipeline {
  /** Runs one call through every step; resolves with how it ended (never rejects). */
  run(name: string, args: unknown, options?: ToolCallOptions): Promise<CallEnding>;
}

export function createCallPipeline(deps: PipelineDeps): CallPipeline {
  const { hooks, logger, shutdown } = deps;
  const approveDeps = { approvals: deps.approvals, channels: deps.approvalChannels, timeoutSeconds: deps.approvalTimeoutSeconds, shutdown, logger };
  const pluginDeps = { shutdown, hooks, logger, defaultTimeoutSeconds: deps.defaultTimeoutSeconds };
  const { monitor } = deps;
  const recordDeps = { audit: deps.audit, hooks, logger, monitor };

  async function runSteps(call: CallState): Promise<CallEnding> {
    const tool = lookUpTool(call, deps.registry, shutdown);
    checkArgumentLimits(call, deps.argumentLimits);
    const checked = validateArguments(call, tool);
    decidePolicy(checked, deps.decideFor);
    checkGrants(checked);
    checkLimits(checked, deps.limiter);
    const pending = await (monitor && checked.decision?.action === 'ask'
      ? monitor.approval(checked, () => approveCall(checked, approveDeps))
      : approveCall(checked, approveDeps));
    if (pending) return { type: 'input_required', result: pending };

    const release = acquireLimits(checked, deps.limiter);
    const hooked = wantsCallHooks(hooks);
    const started = performance.now();
    let outcome;
    try {
      if (hooked) await runToolCallHooks(checked, hooks);
      await recordStart(checked, recordDeps);
      outcome = await (monitor ? monitor.plugin(checked, () => callPlugin(checked, pluginDeps)) : callPlugin(checked, pluginDeps));
      checkResult(tool, outcome, logger);
    } finally {
      release();
    }
    if (!hooked) return { type: 'answered', outcome };

    const pluginMs = Math.round((performance.now() - started) * 10) / 10;
    const after = await runToolResultHooks(checked, hooks, outcome, pluginMs);
    // A hook may have changed structured data; it must still match the tool's output schema.
    if (after.edited) checkResult(tool, after.outcome, logger, 'after a tool_result hook');
    return { type: 'answered', outcome: after.outcome };
  }

  return {
    async run(name, args, options = {}) {
      const call = startCall(name, args, options);
      monitor?.started(call);
      let ending: CallEnding;
      try {
        ending = await runSteps(call);
      } catch (error) {
        ending = { type: 'failed', error };
      }
      try {
        await recordEnd(call, ending, recordDeps);
      } catch (error) {
        ending = { type: 'failed', error };
      }
      return ending;
    },
  };
}

export type { ToolCallOptions } from './call.js';
export type { CallMonitor, CallScope } from './monitor.js';
export { createToolDecider, type ToolDecider } from './decide-policy.js';
export { timeoutMsOf } from './call-plugin.js';
