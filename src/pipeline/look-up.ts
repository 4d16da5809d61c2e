// Find the tool the client named. An unknown name is the one failure MCP makes a
// JSON-RPC error; nothing runs once the server is shutting down.
import { ErrorCode, ToolportError } from '../core/errors.js';
import type { ExposedTool, Registry } from '../core/registry.js';
import type { CallState } from './call.js';

/** Why a call is not run once the server began to shut down (at its start, or after a wait). */
export const notRunAtShutdown = (name: string): ToolportError => new ToolportError(ErrorCode.ShuttingDown, `${name} was not run: the server is shutting down`);

export function lookUpTool(call: CallState, registry: Registry, shutdown: AbortSignal): ExposedTool {
  if (shutdown.aborted) throw notRunAtShutdown(call.name);
  const tool = registry.get(call.name);
  if (!tool) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${call.name}`);
  call.tool = tool;
  return tool;
}
