// The one place that turns how a request ended into MCP. A tool call: an answer becomes a
// CallToolResult, input_required passes through, and a failure becomes an isError result
// with a safe message, except protocol faults (an unknown tool, and a ProtocolError the call
// ran into, such as -32021 for a client without a capability the tool needs), which become
// JSON-RPC errors. A prompt has no isError result: every failure is a JSON-RPC error.
import { ProtocolError, ProtocolErrorCode, type CallToolResult, type GetPromptResult, type InputRequiredResult } from '@modelcontextprotocol/server';
import { ErrorCode, RateLimitedError, describeThrown, isToolportError } from './errors.js';
import type { PromptOutcome } from './prompt.js';
import type { CallEnding, ToolOutcome } from './tool.js';

/** The `_meta` key of a refused call's result that says how many milliseconds to wait. */
export const retryAfterMetaKey = 'toolport/retryAfterMs';

/** How a prompts/get ended. */
export type PromptEnding = { readonly type: 'answered'; readonly outcome: PromptOutcome } | { readonly type: 'failed'; readonly error: unknown };

/** A tools/call answer; throws ProtocolError for protocol faults. */
export function toCallToolResult(ending: CallEnding, toolName: string): CallToolResult | InputRequiredResult {
  switch (ending.type) {
    case 'answered':
      return fromOutcome(ending.outcome);
    case 'input_required':
      return ending.result;
    case 'failed':
      return fromError(ending.error, toolName);
  }
}

/** A prompts/get answer; every failure is a JSON-RPC error, since prompts have no isError result. */
export function toGetPromptResult(ending: PromptEnding): GetPromptResult {
  if (ending.type === 'answered') {
    const { description, messages } = ending.outcome;
    return { ...(description !== undefined && { description }), messages };
  }
  const { error } = ending;
  if (!isToolportError(error)) throw error;
  const invalid = error.code === ErrorCode.ToolNotFound || error.code === ErrorCode.ArgumentsInvalid;
  throw new ProtocolError(invalid ? ProtocolErrorCode.InvalidParams : ProtocolErrorCode.InternalError, error.shortMessage);
}

function fromOutcome(outcome: ToolOutcome): CallToolResult {
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

function fromError(error: unknown, toolName: string): CallToolResult {
  // Protocol faults the call ran into (a client without a capability the tool needs: -32021,
  // an invalid answer to an input request) are JSON-RPC errors, as the spec says.
  if (error instanceof ProtocolError) throw error;
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
