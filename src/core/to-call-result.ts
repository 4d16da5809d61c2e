// The one place that turns what happened to a call into MCP: an outcome becomes a
// CallToolResult; an error becomes an isError result with a safe message, except
// protocol faults (unknown tool), which become JSON-RPC errors.
import { ProtocolError, ProtocolErrorCode, type CallToolResult } from '@modelcontextprotocol/server';
import { ErrorCode, RateLimitedError, describeThrown, isToolportError } from './errors.js';
import type { ToolOutcome } from './tool.js';

/** The `_meta` key of a refused call's result that says how many milliseconds to wait. */
export const retryAfterMetaKey = 'toolport/retryAfterMs';

export function toCallToolResult(outcome: ToolOutcome): CallToolResult {
  const result: CallToolResult = { content: outcome.content };
  if (outcome.structuredContent !== undefined && !outcome.isError) {
    result.structuredContent = outcome.structuredContent;
    // Clients that ignore structuredContent still see the data.
    if (outcome.content.length === 0) {
      result.content = [{ type: 'text', text: JSON.stringify(outcome.structuredContent) }];
    }
  }
  if (outcome.isError) result.isError = true;
  return result;
}

/** Throws ProtocolError for protocol faults; returns an isError result for everything else. */
export function errorToCallToolResult(error: unknown, toolName: string): CallToolResult {
  if (isToolportError(error)) {
    if (error.code === ErrorCode.ToolNotFound) {
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, error.shortMessage);
    }
    const result: CallToolResult = { content: [{ type: 'text', text: error.shortMessage }], isError: true };
    // The text says when to retry; clients and agents that act on data get it here too.
    if (error instanceof RateLimitedError) result._meta = { [retryAfterMetaKey]: error.retryAfterMs };
    return result;
  }
  // Anything else is a bug in toolport; say so without leaking internals.
  return {
    content: [{ type: 'text', text: `${toolName} failed inside toolport (${describeThrown(error).slice(0, 200)}); see the server log` }],
    isError: true,
  };
}
