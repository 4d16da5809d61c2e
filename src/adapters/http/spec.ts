// The config block of an `http` plugin (a Carter manifest and the API it describes).
import { z } from 'zod';
import { basePluginSpecShape } from '../../core/plugin.js';

const timeoutSeconds = z.number().positive().max(3600);
const defaultTimeouts = { connectSeconds: 30, headersSeconds: 30, bodySeconds: 30 };

export const httpSpecSchema = z.strictObject({
  ...basePluginSpecShape,
  kind: z.literal('http'),
  /** Sent as X-Carter-Plugin-Secret-Token; usually `${ENV_VAR}`. Never logged. */
  secretToken: z
    .string()
    // A header value: printable ASCII, no line breaks, no surrounding spaces (often a stray newline from a file).
    .regex(/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/, 'must be printable ASCII on one line, without leading or trailing spaces')
    .optional(),
  /** One relationship_token for every caller; without it each principal gets its own, derived. */
  relationshipToken: z.string().min(1, 'must not be empty').optional(),
  /**
   * Fetch (or read) the manifest again this often; a change of its tools is applied without
   * a restart (clients hear tools/list_changed; pinning sees the change). Off by default.
   */
  refreshSeconds: z.number().min(1).max(86_400).optional(),
  /** Limits of one HTTP exchange, on top of the call's own timeoutSeconds. */
  timeouts: z
    .strictObject({
      connectSeconds: timeoutSeconds.default(defaultTimeouts.connectSeconds),
      headersSeconds: timeoutSeconds.default(defaultTimeouts.headersSeconds),
      bodySeconds: timeoutSeconds.default(defaultTimeouts.bodySeconds),
    })
    .default(defaultTimeouts),
});
export type HttpSpec = z.output<typeof httpSpecSchema>;
