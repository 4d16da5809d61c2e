// Rate limits and concurrency caps. A call the limits would refuse is refused before
// anyone is asked to approve it; tokens and slots are taken only after approval, so a
// rejected call spends nothing, and before the hooks, which see only calls let through.
import type { RateLimiter } from '../policy/rate-limits.js';
import type { ToolCall } from './call.js';

// Both answer at once (no promise) when the limiter does: the limits of one process.
export function checkLimits(call: ToolCall, limiter: RateLimiter): void | Promise<void> {
  return limiter.check({ tool: call.name, plugin: call.tool.plugin.id, principal: call.context.principal });
}

/** Takes what the call needs; returns the function that gives the concurrency slots back. */
export function acquireLimits(call: ToolCall, limiter: RateLimiter): (() => void) | Promise<() => void> {
  return limiter.acquire({ tool: call.name, plugin: call.tool.plugin.id, principal: call.context.principal });
}
