// prompts/list and prompts/get: the prompts plugins offer, named like tools, rendered by
// their plugin with the same signal rules as a tool call. Ends like a call does, so one
// door (core/to-mcp-result.ts) turns the ending into MCP.
import { createCallSignal } from '../core/call-signal.js';
import { ErrorCode, ToolportError, isToolportError } from '../core/errors.js';
import { toExposedPrompts, type ExposedPrompt } from '../core/exposed-prompts.js';
import type { Logger } from '../core/logger.js';
import type { NamingOptions } from '../core/naming.js';
import type { Diagnostic, RegisteredPlugin, Registry } from '../core/registry.js';
import type { PromptEnding } from '../core/to-mcp-result.js';
import { startCall, type ToolCallOptions } from './call.js';

export interface PromptsDeps {
  /** The loaded plugins, in config order. */
  readonly plugins: () => readonly RegisteredPlugin[];
  readonly naming: NamingOptions;
  readonly registry: Registry;
  readonly shutdown: AbortSignal;
  readonly logger: Logger;
  readonly defaultTimeoutSeconds: number;
}

export interface Prompts {
  list(): { prompts: ExposedPrompt[]; diagnostics: Diagnostic[] };
  /** Renders one prompt; resolves with how it ended (never rejects). */
  get(name: string, args: Record<string, string>, options?: ToolCallOptions): Promise<PromptEnding>;
}

export function createPrompts(deps: PromptsDeps): Prompts {
  const list = (): { prompts: ExposedPrompt[]; diagnostics: Diagnostic[] } => toExposedPrompts(deps.plugins(), deps.naming);

  async function render(name: string, args: Record<string, string>, options: ToolCallOptions): Promise<PromptEnding> {
    const prompt = list().prompts.find((entry) => entry.name === name);
    if (!prompt) throw new ToolportError(ErrorCode.ToolNotFound, `Unknown prompt: ${name}`);
    const pluginId = prompt.plugin.id;
    const missing = (prompt.definition.arguments ?? []).filter((argument) => argument.required && !args[argument.name]).map((argument) => argument.name);
    if (missing.length > 0) throw new ToolportError(ErrorCode.ArgumentsInvalid, `Missing arguments for prompt ${name}: ${missing.join(', ')}`, { pluginId });
    const callSignal = createCallSignal({
      client: options.signal,
      connection: options.stop,
      shutdown: deps.shutdown,
      timeoutMs: (prompt.plugin.timeoutSeconds ?? deps.defaultTimeoutSeconds) * 1000,
      label: name,
      pluginId,
    });
    const { context } = startCall(name, args, options);
    try {
      const outcome = await Promise.race([
        prompt.owner.getPrompt(prompt.definition.name, args, {
          signal: callSignal.signal,
          context,
          // By id: a plugin listed from the kept catalogue is swapped for the real one meanwhile.
          toolName: (tool) => deps.registry.tools.find((entry) => entry.plugin.id === prompt.plugin.id && entry.definition.name === tool)?.name,
        }),
        callSignal.aborted,
      ]);
      return { type: 'answered', outcome };
    } catch (error) {
      if (isToolportError(error)) throw error;
      deps.logger.warn({ prompt: name, err: error }, 'prompt failed');
      throw new ToolportError(ErrorCode.PluginCrashed, `${name} failed: the plugin could not render the prompt; see the server log`, { cause: error, pluginId });
    } finally {
      callSignal.dispose();
    }
  }

  return {
    list,
    async get(name, args, options = {}) {
      try {
        return await render(name, args, options);
      } catch (error) {
        return { type: 'failed', error };
      }
    },
  };
}
