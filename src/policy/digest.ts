// Digests that bind an approval to one exact call: the exposed tool name and the
// arguments in canonical JSON (keys sorted at every level), hashed with SHA-256; and the
// shape of a JSON value, measured in one walk without recursion.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../core/canonical-json.js';

export function callDigest(tool: string, args: unknown): string {
  return createHash('sha256').update(tool).update('\u0000').update(canonicalJson(args ?? {})).digest('hex');
}

export interface JsonShape {
  /** How deeply the value nests (a scalar is 0, `{}` is 1), counted no further than `limit + 1`. */
  depth: number;
  /**
   * At least the bytes of `JSON.stringify(value)` as UTF-8 (a code unit is at most 6 bytes,
   * `\uXXXX`; a number at most 25); `Infinity` for objects whose JSON their own `toJSON` may
   * write. Not meaningful when `depth` is over the limit.
   */
  maxBytes: number;
}

const stringBound = (text: string): number => 6 * text.length + 2;

function isPlainContainer(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** How deeply `value` nests and an upper bound of its JSON size, in one walk without recursion. */
export function jsonShape(value: unknown, limit: number): JsonShape {
  let deepest = 0;
  let maxBytes = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const [item, depth] = entry;
    if (typeof item === 'string') maxBytes += stringBound(item);
    else if (item === null || typeof item !== 'object') maxBytes += 25;
    else {
      const level = depth + 1;
      if (level > deepest) deepest = level;
      if (level > limit) return { depth: level, maxBytes: Infinity };
      if (!isPlainContainer(item)) maxBytes = Infinity;
      maxBytes += 2;
      if (Array.isArray(item)) {
        for (const member of item as unknown[]) {
          maxBytes += 1;
          stack.push([member, level]);
        }
      } else {
        for (const [key, member] of Object.entries(item)) {
          maxBytes += stringBound(key) + 2;
          stack.push([member, level]);
        }
      }
    }
  }
  return { depth: deepest, maxBytes };
}
