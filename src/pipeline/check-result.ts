// What the plugin answered must be a result, and a tool that declares an
// output schema must return structured data that matches it (checked again after a
// tool_result hook changed it).
import { ErrorCode, ToolportError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ExposedTool } from '../core/registry.js';
import { formatSchemaErrors } from '../core/schema.js';
import { isPlainObject, type ToolOutcome } from '../core/tool.js';

export function checkResult(tool: ExposedTool, outcome: ToolOutcome, logger: Logger, when?: string): void {
  const problem = findProblem(tool, outcome);
  if (problem === undefined) return;
  const error = new ToolportError(ErrorCode.PluginBadOutput, `${tool.name} returned ${problem}${when ? ` ${when}` : ''}`, { pluginId: tool.plugin.id });
  logger.warn({ tool: tool.name, code: error.code }, error.shortMessage);
  throw error;
}

function findProblem(tool: ExposedTool, outcome: ToolOutcome): string | undefined {
  if (!isPlainObject(outcome) || !Array.isArray(outcome.content)) return 'no content';
  if (outcome.isError || !tool.validateOutput) return undefined;
  if (outcome.structuredContent === undefined) return 'no structured data, but it declares an output schema';
  if (!tool.validateOutput(outcome.structuredContent)) {
    return `data that does not match its output schema: ${formatSchemaErrors(tool.validateOutput.errors)}`;
  }
  return undefined;
}
