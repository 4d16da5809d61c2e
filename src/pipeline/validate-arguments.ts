// Step 2: the arguments must match the tool's input schema (compiled once, at load). A
// mismatch names each problem, so the model can correct itself.
import { ErrorCode, ToolportError } from '../core/errors.js';
import type { ExposedTool } from '../core/registry.js';
import { formatSchemaErrors } from '../core/schema.js';
import { isPlainObject } from '../core/tool.js';
import type { CallState, ToolCall } from './call.js';

export function validateArguments(call: CallState, tool: ExposedTool): ToolCall {
  const input = call.args ?? {};
  if (!isPlainObject(input) || !tool.validateInput(input)) {
    const why = isPlainObject(input) ? formatSchemaErrors(tool.validateInput.errors) : '(arguments): must be an object';
    throw new ToolportError(ErrorCode.ArgumentsInvalid, `Invalid arguments for ${call.name}: ${why}`, { pluginId: tool.plugin.id });
  }
  return Object.assign(call, { tool, input });
}
