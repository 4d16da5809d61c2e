// Prompts a plugin may offer (clients show them as slash commands) and the per-session
// facts a plugin may turn into server instructions.
import type { PromptMessage } from '@modelcontextprotocol/server';
import type { CallContext } from './tool.js';

export type { PromptMessage };

export interface PromptArgumentDefinition {
  readonly name: string;
  readonly description?: string;
  readonly required?: boolean;
}

export interface PromptDefinition {
  /** The plugin's own name for the prompt; the exposed name is derived from it. */
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  readonly arguments?: readonly PromptArgumentDefinition[];
}

/** `prompt` under `name` with only the keys MCP knows (a manifest may hold more). */
export function promptShape(name: string, prompt: PromptDefinition): PromptDefinition & { arguments?: PromptArgumentDefinition[] } {
  return {
    name,
    ...(prompt.title !== undefined && { title: prompt.title }),
    ...(prompt.description !== undefined && { description: prompt.description }),
    ...(prompt.arguments !== undefined && {
      arguments: prompt.arguments.map((argument) => ({
        name: argument.name,
        ...(argument.description !== undefined && { description: argument.description }),
        ...(argument.required !== undefined && { required: argument.required }),
      })),
    }),
  };
}

export interface PromptOutcome {
  description?: string;
  messages: PromptMessage[];
}

export interface PromptOptions {
  readonly signal: AbortSignal;
  readonly context: CallContext;
  /** The exposed name of one of this plugin's tools, given the plugin's own name for it. */
  toolName(name: string): string | undefined;
}

/** Who a client session is, for texts computed once per session (server instructions). */
export interface SessionInfo {
  readonly principal: string;
  readonly sessionId?: string;
  readonly client?: { readonly name: string; readonly version: string };
}
