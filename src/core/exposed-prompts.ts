// The naming of exposed prompts: the tool naming rules, with a collision disabling every
// prompt involved instead of overwriting one.
import type { Prompt } from '@modelcontextprotocol/server';
import { groupByExposedName, type NamingOptions } from './naming.js';
import { offersPrompts, type PromptCapability } from './plugin.js';
import { promptShape, type PromptDefinition } from './prompt.js';
import type { Diagnostic, RegisteredPlugin } from './registry.js';

export interface ExposedPrompt {
  readonly name: string;
  readonly plugin: RegisteredPlugin;
  readonly definition: PromptDefinition;
  /** The plugin that renders it. */
  readonly owner: PromptCapability;
  /** The prompt as prompts/list shows it. */
  readonly mcpPrompt: Prompt;
}

/** Names every plugin's prompts; collisions disable every prompt involved, with a diagnostic. */
export function toExposedPrompts(
  plugins: readonly RegisteredPlugin[],
  naming: NamingOptions,
): { prompts: ExposedPrompt[]; diagnostics: Diagnostic[] } {
  const candidates = plugins.flatMap((plugin) => {
    const owner = plugin.plugin;
    return offersPrompts(owner) ? owner.prompts.map((definition) => ({ plugin, owner, definition })) : [];
  });
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
    const [{ plugin, owner, definition }] = group as [(typeof candidates)[number]];
    prompts.push({
      name,
      plugin,
      definition,
      owner,
      mcpPrompt: promptShape(name, definition),
    });
  }
  prompts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { prompts, diagnostics };
}
