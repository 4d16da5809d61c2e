// A tool that declares permissions its plugin was not granted is refused, with the
// config line that would grant them.
import { ErrorCode, ToolportError } from '../core/errors.js';
import { missingGrants } from '../core/grants.js';
import type { ToolCall } from './call.js';

export function checkGrants(call: ToolCall): void {
  const { plugin, definition } = call.tool;
  const missing = missingGrants(definition.permissions ?? [], plugin.grants, plugin.configPath);
  if (missing.length === 0) return;
  throw new ToolportError(
    ErrorCode.CallDenied,
    `${call.name} was refused: plugin "${plugin.id}" declares ${missing.map((m) => m.declared).join(', ')}, which the config does not grant ` +
      `(to allow it, set ${missing.map((m) => m.configLine).join(' and ')})`,
    { pluginId: plugin.id },
  );
}
