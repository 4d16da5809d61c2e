// The `python` kind: ScaiWave BasePlugin classes (a .py file or a package folder) run
// unmodified in a persistent Python host, one process per configured plugin.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { basePluginSpecShape, defineAdapter } from '../types.js';
import { loadPythonPlugin, resolvePluginPath } from './python-plugin.js';

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
});
export type PythonSpec = z.output<typeof pythonSpecSchema>;

const hostScript = fileURLToPath(new URL('./host/main.py', import.meta.url));

export const pythonAdapter = defineAdapter<PythonSpec>({
  kind: 'python',
  spec: pythonSpecSchema,
  load(spec, context) {
    const defaultPython = process.env.TOOLPORT_PYTHON ?? (process.platform === 'win32' ? 'python' : 'python3');
    const python = spec.python !== undefined && /[\\/]/.test(spec.python) ? resolvePluginPath(spec.python, context.baseDir) : (spec.python ?? defaultPython);
    const services = Object.fromEntries(Object.entries(spec.services).filter((entry): entry is [string, string] => entry[1] !== undefined));
    return loadPythonPlugin(
      {
        path: resolvePluginPath(spec.path, context.baseDir),
        python,
        hostScript,
        settings: spec.settings,
        tenant: spec.tenant,
        userToken: spec.userToken,
        services,
        grantedEnv: spec.grants.env,
        grants: spec.grants,
        guard: {
          network: spec.grants.network,
          subprocess: spec.allowSubprocess,
          files: Object.fromEntries(Object.entries(spec.grants.files).map(([path, mode]) => [resolvePluginPath(path, context.baseDir), mode])),
        },
        dynamicToolsRefreshSeconds: spec.dynamicToolsRefreshSeconds,
        configId: spec.id,
        loadTimeoutMs: 30_000,
        cancelGraceMs: 2_000,
      },
      context,
    );
  },
});
