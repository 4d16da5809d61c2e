// The `command` kind: an EvoClaw skill folder (SKILL.md + agent.toml [tools.NAME]) whose tools
// run as one subprocess per call: argv only, in a bubblewrap sandbox with only the granted
// folders, variables and network, capped output and a time limit.
import { defineAdapter } from '../../core/plugin.js';
import { loadCommandPlugin } from './command-plugin.js';
import { commandSpecSchema, type CommandSpec } from './spec.js';

export const commandAdapter = defineAdapter<CommandSpec>({ kind: 'command', spec: commandSpecSchema, load: loadCommandPlugin });

export type { CommandSpec } from './spec.js';
