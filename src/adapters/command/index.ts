// The `command` kind: an EvoClaw skill folder (SKILL.md + agent.toml [tools.NAME]) whose tools
// run as one subprocess per call: argv only, own process group, minimal environment, capped
// output, a time limit, and no network unless the config grants it.
import { defineAdapter } from '../../core/plugin.js';
import { loadCommandPlugin } from './command-plugin.js';
import { commandSpecSchema, type CommandSpec } from './spec.js';

export const commandAdapter = defineAdapter<CommandSpec>({ kind: 'command', spec: commandSpecSchema, load: loadCommandPlugin });

export type { CommandSpec } from './spec.js';
