// Turns what in-process code returned (a string, an MCP-shaped result, any JSON value)
// into a ToolOutcome; anything else is the plugin's fault, reported as bad output.
import { ErrorCode, ToolportError } from './errors.js';
import { isPlainObject, textContent, type ContentBlock, type ToolOutcome } from './tool.js';

function isContentArray(value: unknown): value is ContentBlock[] {
  return Array.isArray(value) && value.every((block) => isPlainObject(block) && typeof block.type === 'string');
}

/** A plugin may return a string, an MCP-shaped result, or any JSON value. */
export function toToolOutcome(value: unknown, tool: string, pluginId: string): ToolOutcome {
  if (typeof value === 'string') return { content: [textContent(value)] };
  if (value === undefined || value === null) return { content: [] };
  if (isPlainObject(value) && 'content' in value) {
    if (!isContentArray(value.content)) {
      throw new ToolportError(ErrorCode.PluginBadOutput, `${tool} returned "content" that is not a list of content blocks`, { pluginId });
    }
    if (value.structuredContent !== undefined && !isPlainObject(value.structuredContent)) {
      throw new ToolportError(ErrorCode.PluginBadOutput, `${tool} returned "structuredContent" that is not an object`, { pluginId });
    }
    return {
      content: value.content,
      ...(value.structuredContent !== undefined && { structuredContent: value.structuredContent }),
      ...(value.isError === true && { isError: true }),
    };
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    throw new ToolportError(ErrorCode.PluginBadOutput, `${tool} returned a value that is not JSON`, { pluginId });
  }
  return { content: [textContent(text)], ...(isPlainObject(value) && { structuredContent: value }) };
}

