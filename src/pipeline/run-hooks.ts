// tool_call handlers see the call just before the plugin runs (any may
// block it); tool_result handlers see the answer (they may redact or replace it). Events
// are built only when a handler or the event stream will see them.
import { raceSignal } from '../core/abort.js';
import type { ToolOutcome } from '../core/tool.js';
import type { HookBus } from '../policy/hooks.js';
import type { ToolCall } from './call.js';
import { notRunAtShutdown } from './look-up.js';

/** Whether this call goes through the hooks at all (decided once, before the plugin runs). */
export function wantsCallHooks(hooks: HookBus): boolean {
  return hooks.wants('tool_call') || hooks.wants('tool_result');
}

/**
 * Runs the tool_call handlers. A shutdown while they run ends the call at once (a handler
 * may take its whole time limit, and watches no signal): it is not left to reach its plugin
 * after the server began to stop, and it is answered while the client is still connected.
 */
export async function runToolCallHooks(call: ToolCall, hooks: HookBus, shutdown: AbortSignal): Promise<void> {
  // Stopped while it waited on an earlier step: no handler is asked about a call that will not run.
  if (shutdown.aborted) throw notRunAtShutdown(call.name);
  const running = hooks.runToolCall({ type: 'tool_call', ...call.eventBase(), arguments: call.input, argsDigest: call.digest() });
  await raceSignal(running, shutdown).catch((error: unknown) => {
    if (shutdown.aborted) throw notRunAtShutdown(call.name);
    throw error;
  });
}

/** The result after every tool_result handler; `edited` says whether one could have changed it. */
export async function runToolResultHooks(
  call: ToolCall,
  hooks: HookBus,
  outcome: ToolOutcome,
  pluginMs: number,
): Promise<{ outcome: ToolOutcome; edited: boolean }> {
  const edited = hooks.has('tool_result');
  const final = await hooks.runToolResult({ type: 'tool_result', ...call.eventBase(), result: outcome, durationMs: pluginMs });
  return { outcome: final, edited };
}
