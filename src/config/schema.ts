// The config file's shape (toolport.yaml / .json), validated with zod. Plugin blocks
// are checked here for their common keys and by their adapter for the rest.
import { z } from 'zod';
import { pluginKinds } from '../adapters/types.js';
import { maxExposedNameLength, prefixModes } from '../core/naming.js';
import { defaultPolicy, policySchema } from '../policy/decide.js';

const tokenSchema = z.union([
  z.string().min(1, 'must not be empty'),
  z.strictObject({
    token: z.string().min(1, 'must not be empty'),
    principal: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be 1-64 letters, digits, _ . @ or -'),
    tools: z.array(z.string().min(1)).optional(),
  }),
]);

const notYet = (what: string, issue: string) =>
  z.unknown().superRefine((_, ctx) => {
    ctx.addIssue({ code: 'custom', message: `${what} is not supported by this version of toolport yet (${issue})` });
  });

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -').default('toolport'),
      http: z
        .strictObject({
          host: z.string().min(1).default('127.0.0.1'),
          port: z.number().int().min(0).max(65_535).default(8808),
          /** Extra Host header names accepted besides loopback ones (for non-loopback binds). */
          allowedHosts: z.array(z.string().min(1)).default([]),
          auth: z
            .strictObject({
              tokens: z.array(tokenSchema).default([]),
              oauth: notYet('server.http.auth.oauth', 'OAuth resource-server mode lands with the HTTP auth issue').optional(),
            })
            .default({ tokens: [] }),
        })
        .default({ host: '127.0.0.1', port: 8808, allowedHosts: [], auth: { tokens: [] } }),
    })
    .default({ name: 'toolport', http: { host: '127.0.0.1', port: 8808, allowedHosts: [], auth: { tokens: [] } } }),
  naming: z
    .strictObject({
      prefix: z.enum(prefixModes).default('always'),
      maxLength: z.number().int().min(16).max(maxExposedNameLength).default(maxExposedNameLength),
    })
    .default({ prefix: 'always', maxLength: maxExposedNameLength }),
  defaults: z
    .strictObject({ timeoutSeconds: z.number().positive().max(86_400).default(30) })
    .default({ timeoutSeconds: 30 }),
  plugins: z
    .array(
      z.looseObject({
        path: z.string().min(1, 'must be a file, folder or URL'),
        kind: z.enum(pluginKinds).optional(),
      }),
    )
    .default([]),
  policy: policySchema.default(defaultPolicy),
  approvals: z
    .strictObject({
      /** How long a call waits in the out-of-band inbox (or for a prompt) before it is rejected. */
      timeoutSeconds: z.number().positive().max(86_400).default(120),
      /** The admin endpoint for the inbox; without it, calls that need approval from clients that cannot prompt are refused. */
      admin: z
        .strictObject({
          token: z.string().min(16, 'must be at least 16 characters'),
          host: z.string().min(1).default('127.0.0.1'),
          port: z.number().int().min(0).max(65_535).default(8809),
        })
        .optional(),
    })
    .default({ timeoutSeconds: 120 }),
  audit: z
    .strictObject({
      path: z.string().min(1),
      /** Write argument values too (secrets are still scrubbed). */
      includeArguments: z.boolean().default(false),
    })
    .optional(),
  limits: notYet('limits', 'rate limits land with the hooks and auth issue').optional(),
  hooks: notYet('hooks', 'hooks land with the hooks and auth issue').optional(),
  events: notYet('events', 'the event stream lands with the hooks and auth issue').optional(),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type PluginEntry = Config['plugins'][number];
export type TokenEntry = z.output<typeof tokenSchema>;
