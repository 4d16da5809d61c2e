// The `module` kind: a JS/TS file exporting a plugin written for toolport, in the
// BasePlugin shape (`manifest` with tools, `executeTool(name, args, ctx)`), run in-process.
import { defineAdapter } from '../../core/plugin.js';
import { loadModulePlugin } from './module-plugin.js';
import { moduleSpecSchema, type ModuleSpec } from './spec.js';

export const moduleAdapter = defineAdapter<ModuleSpec>({ kind: 'module', spec: moduleSpecSchema, load: loadModulePlugin });

export type { ModulePluginHost, ModuleToolContext } from './module-plugin.js';
export type { ModuleSpec } from './spec.js';
