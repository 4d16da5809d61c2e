// Prompts a plugin may offer (clients show them as slash commands) and the per-session
// facts a plugin may turn into server instructions; plus the naming of exposed prompts,
// which follows the tool naming rules and disables collisions instead of overwriting.
import type { Prompt, PromptMessage } from '@modelcontextprotocol/server';
import type { Diagnostic, RegisteredPlugin } from './registry.js';
import { groupByExposedName, type NamingOptions } from './naming.js';
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

export interface ExposedPrompt {
  readonly name: string;
  readonly plugin: RegisteredPlugin;
  readonly definition: PromptDefinition;
  /** The prompt as prompts/list shows it. */
  readonly mcpPrompt: Prompt;
}

/** Names every plugin's prompts; collisions disable every prompt involved, with a diagnostic. */
export function toExposedPrompts(
  plugins: readonly RegisteredPlugin[],
  naming: NamingOptions,
): { prompts: ExposedPrompt[]; diagnostics: Diagnostic[] } {
  const candidates = plugins.flatMap((plugin) => (plugin.plugin.prompts ?? []).map((definition) => ({ plugin, definition })));
  const groups = groupByExposedName(candidates, naming, (candidate) => ({ pluginId: candidate.plugin.id, name: candidate.definition.name }));
  const prompts: ExposedPrompt[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const [name, group] of groups) {
    if (group.length > 1) {
      const who = group.map((c) => `prompt "${c.definition.name}" of plugin "${c.plugin.id}"`).join(', ');
      for (const candidate of group) {
        diagnostics.push({
          level: 'error',
          pluginId: candidate.plugin.id,
          message: `prompt name collision on "${name}": ${who}; these prompts are disabled; give one plugin a different "id" in the config`,
        });
      }
      continue;
    }
    const [{ plugin, definition }] = group as [(typeof candidates)[number]];
    prompts.push({
      name,
      plugin,
      definition,
      mcpPrompt: {
        name,
        ...(definition.title !== undefined && { title: definition.title }),
        ...(definition.description !== undefined && { description: definition.description }),
        ...(definition.arguments !== undefined && {
          arguments: definition.arguments.map((argument) => ({
            name: argument.name,
            ...(argument.description !== undefined && { description: argument.description }),
            ...(argument.required !== undefined && { required: argument.required }),
          })),
        }),
      },
    });
  }
  prompts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { prompts, diagnostics };
}
