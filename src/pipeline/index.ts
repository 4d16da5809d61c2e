// The call pipeline, assembled from its steps in the order they run:
//   look up → argument limits → validate arguments → decide (policy) → check the pin → check
//   grants → check limits → resume (a 2026-07-28 retry's state) → approve → take limits →
//   tool_call hooks → (shutdown since? then not run) → record start (audit) → call the plugin
//   → check the result → tool_result hooks (→ check the result again) → record end (audit, tool_error)
// Each step is a function in a file named after it (a step and its counterpart share one:
// validate-arguments.ts, limit.ts, run-hooks.ts, record.ts); `run` resolves with how the call
// ended and never rejects, so one door (core/to-mcp-result.ts) turns every ending into MCP.
import type { CallSignal } from '../core/call-signal.js';
import type { Logger } from '../core/logger.js';
import type { Registry } from '../core/registry.js';
import type { CallEnding, ToolOutcome } from '../core/tool.js';
import type { AskingChannel } from '../policy/approval-types.js';
import type { ApprovalChain } from '../policy/approvals.js';
import type { AuditLog } from '../policy/audit.js';
import type { HookBus } from '../policy/hooks.js';
import type { RateLimiter } from '../policy/rate-limits.js';
import type { SingleUseStore } from '../policy/single-use.js';
import { ErrorCode, ToolportError } from '../core/errors.js';
import { approveCall } from './approve.js';
import { createAsker } from './ask-client.js';
import { startCall, type CallState, type ToolCallOptions } from './call.js';
import { callPlugin } from './call-plugin.js';
import { checkGrants } from './check-grants.js';
import { checkPin } from './check-pin.js';
import type { PinGuard } from '../policy/pins.js';
import { checkResult } from './check-result.js';
import { decidePolicy, type ToolDecider } from './decide-policy.js';
import { acquireLimits, checkLimits } from './limit.js';
import { lookUpTool, notRunAtShutdown } from './look-up.js';
import type { CallMonitor } from './monitor.js';
import { recordEnd, recordStart } from './record.js';
import { resumeRoundTrip } from './resume.js';
import { runToolCallHooks, runToolResultHooks, wantsCallHooks } from './run-hooks.js';
import { checkArgumentLimits, validateArguments, type ArgumentLimits } from './validate-arguments.js';

export interface PipelineDeps {
  readonly registry: Registry;
  readonly decideFor: ToolDecider;
  /** Tool-definition pins: a changed or new definition is refused or asked about. */
  readonly pins: Pick<PinGuard, 'verdict'>;
  readonly limiter: RateLimiter;
  readonly approvals: ApprovalChain;
  /** `approvals.timeoutSeconds`. */
  readonly approvalTimeoutSeconds: number;
  /** `approvals.channels`. */
  readonly approvalChannels: readonly AskingChannel[];
  /** Where round-trip states are claimed, so each is used once. */
  readonly singleUse: SingleUseStore;
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

/** How long a plugin run that asked may go on after its call ended with the question (it is then stopped). */
const windDownMs = 2000;

export interface CallPipeline {
  /** Runs one call through every step; resolves with how it ended (never rejects). */
  run(name: string, args: unknown, options?: ToolCallOptions): Promise<CallEnding>;
  /** Resolves true once no call is running (each recorded as ended), or false after `ms`. */
  whenIdle(ms: number): Promise<boolean>;
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
    checkPin(checked, deps.pins);
    checkGrants(checked);
    // A step with nothing to do answers at once, without a promise: most calls wait only
    // for their plugin (an await per step would cost each call a promise and a turn).
    const checking = checkLimits(checked, deps.limiter);
    if (checking) await checking;
    const resuming = resumeRoundTrip(checked, deps.singleUse);
    if (resuming) await resuming;
    const approving = monitor && checked.decision?.action === 'ask' ? monitor.approval(checked, async () => approveCall(checked, approveDeps)) : approveCall(checked, approveDeps);
    const pending = approving && (await approving);
    if (pending) return { type: 'input_required', result: pending };

    const acquiring = acquireLimits(checked, deps.limiter);
    const release = typeof acquiring === 'function' ? acquiring : await acquiring;
    const hooked = wantsCallHooks(hooks);
    // The plugin's time, for the tool_result hooks only.
    const started = hooked ? performance.now() : 0;
    let outcome;
    try {
      if (hooked) await runToolCallHooks(checked, hooks, shutdown);
      // The server may have begun to shut down while the call waited (limits, approval, hooks).
      if (shutdown.aborted) throw notRunAtShutdown(checked.name);
      const recording = recordStart(checked, recordDeps);
      if (recording) await recording;
      const asked = await (monitor?.plugin ? monitor.plugin(checked, () => runPlugin(checked)) : runPlugin(checked));
      if ('ending' in asked) return asked.ending;
      outcome = asked.outcome;
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

  /** Runs the plugin; a question it asks may end the call instead (input_required, or -32021). */
  async function runPlugin(call: Parameters<typeof callPlugin>[0]): Promise<{ outcome: ToolOutcome } | { ending: CallEnding }> {
    const asker = createAsker(call);
    // The call's own signal ends the run early when needed (no second signal per call).
    let run: Pick<CallSignal, 'stop'> | undefined;
    const running = callPlugin(call, pluginDeps, { client: asker.client, onStart: (started) => (run = started) });
    try {
      // Whichever comes first: the plugin's answer, or the ending its question forces.
      const first = await new Promise<{ outcome: ToolOutcome } | { ending: CallEnding }>((resolve, reject) => {
        running.then((outcome) => resolve({ outcome }), reject);
        asker.onEnding((ending) => resolve({ ending }));
      });
      if (!asker.interrupted && 'outcome' in first) return first;
      const ending = await asker.ending;
      // This run is over (the call goes on with the answers, in a new request). Its question
      // failed, so the plugin usually ends on its own; one that keeps going is stopped.
      const timer = setTimeout(() => run?.stop(new ToolportError(ErrorCode.CallCancelled, `${call.name} ended here: the client is asked first`)), windDownMs);
      timer.unref();
      void running.then(
        () => clearTimeout(timer),
        () => clearTimeout(timer),
      );
      return { ending };
    } catch (error) {
      // The plugin failed after it asked: the question wins (it is what the client must answer).
      if (asker.interrupted) return { ending: await asker.ending };
      throw error;
    }
  }

  // Calls between their start and their recorded end, for a shutdown that waits for them.
  let running = 0;
  const idle = new Set<() => void>();
  const ended = (): void => {
    running -= 1;
    if (running > 0) return;
    for (const wake of idle) wake();
    idle.clear();
  };

  return {
    async run(name, args, options = {}) {
      running += 1;
      try {
        const call = startCall(name, args, options);
        monitor?.started?.(call);
        let ending: CallEnding;
        try {
          ending = await runSteps(call);
        } catch (error) {
          ending = { type: 'failed', error };
        }
        try {
          const writing = recordEnd(call, ending, recordDeps);
          if (writing) await writing;
        } catch (error) {
          ending = { type: 'failed', error };
        }
        return ending;
      } finally {
        ended();
      }
    },
    whenIdle(ms) {
      if (running === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          idle.delete(wake);
          resolve(false);
        }, ms);
        idle.add(wake);
      });
    },
  };
}

export type { ToolCallOptions } from './call.js';
export type { CallMonitor, CallScope } from './monitor.js';
export { createToolDecider, type ToolDecider } from './decide-policy.js';
export { timeoutMsOf } from './call-plugin.js';
