// The config block of a `module` plugin: only the keys every plugin block has.
import { z } from 'zod';
import { basePluginSpecShape } from '../../core/plugin.js';

export const moduleSpecSchema = z.strictObject({
  ...basePluginSpecShape,
  kind: z.literal('module'),
});
export type ModuleSpec = z.output<typeof moduleSpecSchema>;
