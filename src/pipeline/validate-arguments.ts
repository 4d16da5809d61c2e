// The arguments must be within the size and nesting limits (checked first, without
// recursion, so hostile input cannot overflow a stack further on) and match the tool's input
// schema (compiled once, at load). A mismatch names each problem, so the model can correct itself.
import { ErrorCode, ToolportError } from '../core/errors.js';
import type { ExposedTool } from '../core/registry.js';
import { formatSchemaErrors } from '../core/schema.js';
import { isPlainObject } from '../core/tool.js';
import { jsonShape } from '../policy/digest.js';
import type { CallState, ToolCall } from './call.js';

export interface ArgumentLimits {
  /** `defaults.maxArgumentDepth`: how deeply arguments may nest. */
  readonly maxDepth: number;
  /** `defaults.maxArgumentBytes`: how large they may be, as JSON. */
  readonly maxBytes: number;
}

function refuse(call: CallState, why: string): never {
  throw new ToolportError(ErrorCode.ArgumentsInvalid, `Invalid arguments for ${call.name}: ${why}`, { pluginId: call.tool?.plugin.id });
}

/** Refuses arguments over the limits; records that they were within them (the audit may then hold them). */
export function checkArgumentLimits(call: CallState, limits: ArgumentLimits): void {
  const { depth, maxBytes } = jsonShape(call.args, limits.maxDepth);
  if (depth > limits.maxDepth) refuse(call, `they nest more than ${limits.maxDepth} levels deep (defaults.maxArgumentDepth)`);
  // Only arguments that might be over the limit are measured exactly. Within the depth limit
  // JSON.stringify cannot overflow the stack.
  if (maxBytes > limits.maxBytes) {
    const bytes = Buffer.byteLength(JSON.stringify(call.args ?? {}));
    if (bytes > limits.maxBytes) refuse(call, `they are ${bytes} bytes as JSON, more than ${limits.maxBytes} (defaults.maxArgumentBytes)`);
  }
  call.argumentsWithinLimits = true;
}

export function validateArguments(call: CallState, tool: ExposedTool): ToolCall {
  const input = call.args ?? {};
  if (!isPlainObject(input) || !tool.validateInput(input)) {
    const why = isPlainObject(input) ? formatSchemaErrors(tool.validateInput.errors) : '(arguments): must be an object';
    throw new ToolportError(ErrorCode.ArgumentsInvalid, `Invalid arguments for ${call.name}: ${why}`, { pluginId: tool.plugin.id });
  }
  call.tool = tool;
  call.input = input;
  return call as ToolCall;
}
