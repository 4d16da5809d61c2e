// The config block of a `python` plugin (a ScaiWave BasePlugin file or package).
import { z } from 'zod';
import { basePluginSpecShape } from '../../core/plugin.js';
import { sandboxSettingSchema } from '../../core/sandbox.js';

const serviceTarget = z
  .string()
  .regex(/^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$/, 'must be "module:callable", a Python factory importable from the plugin\'s folder');

export const pythonSpecSchema = z.strictObject({
  ...basePluginSpecShape,
  kind: z.literal('python'),
  /** The interpreter; default `$TOOLPORT_PYTHON`, else `python3`. Python 3.9 or newer. */
  python: z.string().min(1).optional(),
  /** `ctx.tenant`: a small read-only object. */
  tenant: z.record(z.string(), z.unknown()).default({ id: 'toolport', name: 'toolport' }),
  /** `ctx.user_token`: passed only when set here (never the MCP client's own token). */
  userToken: z.string().min(1).optional(),
  /** Factories for ctx.db / redis / arq / scaigrid, called once when the host starts. */
  services: z
    .strictObject({ db: serviceTarget.optional(), redis: serviceTarget.optional(), arq: serviceTarget.optional(), scaigrid: serviceTarget.optional() })
    .default({}),
  /** How often get_dynamic_tools is asked again besides after every call; 0 = only after calls. */
  dynamicToolsRefreshSeconds: z.number().min(0).max(86_400).default(60),
  /** Whether the plugin may start processes (which the host's guard cannot follow). */
  allowSubprocess: z.boolean().default(false),
  /** `off` runs the host without the bubblewrap sandbox (an explicit, loudly warned opt-out). */
  sandbox: sandboxSettingSchema,
});
export type PythonSpec = z.output<typeof pythonSpecSchema>;
