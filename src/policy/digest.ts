// Digests that bind an approval to one exact call: the exposed tool name and the
// arguments in canonical JSON (keys sorted at every level), hashed with SHA-256.
import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function callDigest(tool: string, args: unknown): string {
  return createHash('sha256').update(tool).update('\u0000').update(canonicalJson(args ?? {})).digest('hex');
}
