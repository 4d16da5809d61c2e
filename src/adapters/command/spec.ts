// The config block of a `command` plugin (an EvoClaw skill folder).
import { z } from 'zod';
import { basePluginSpecShape } from '../../core/plugin.js';
import { sandboxSettingSchema } from '../../core/sandbox.js';

const mebibyte = 1024 * 1024;

export const commandSpecSchema = z.strictObject({
  ...basePluginSpecShape,
  kind: z.literal('command'),
  /** Cap of stdout and of stderr, each, per call; the rest is counted and dropped. */
  maxOutputBytes: z.number().int().min(1024).max(256 * mebibyte).default(mebibyte),
  /** Calls of one tool running at once; more wait in line. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Time between SIGTERM and SIGKILL when a call is stopped. */
  killGraceSeconds: z.number().min(0).max(60).default(2),
  /** `off` runs the skill without the bubblewrap sandbox (an explicit, loudly warned opt-out). */
  sandbox: sandboxSettingSchema,
  /** Serve the folder as an MCP skill too (skills extension: SKILL.md and its other files, read-only). */
  serveSkill: z.boolean().default(true),
});
export type CommandSpec = z.output<typeof commandSpecSchema>;
