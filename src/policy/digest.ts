// Digests that bind an approval to one exact call: the exposed tool name and the
// arguments in canonical JSON (keys sorted at every level), hashed with SHA-256. Built
// without recursion, so no input, however deeply nested, can overflow the stack here.
import { createHash } from 'node:crypto';

type Work = { readonly text: string } | { readonly value: unknown };

/** JSON with object keys sorted, so equal values always give equal text. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Work[] = [{ value }];
  for (let work = stack.pop(); work !== undefined; work = stack.pop()) {
    if ('text' in work) {
      out.push(work.text);
      continue;
    }
    const item = work.value;
    if (Array.isArray(item)) {
      out.push('[');
      stack.push({ text: ']' });
      for (let index = item.length - 1; index >= 0; index -= 1) {
        stack.push({ value: item[index] as unknown });
        if (index > 0) stack.push({ text: ',' });
      }
    } else if (item !== null && typeof item === 'object') {
      const entries = Object.entries(item as Record<string, unknown>)
        .filter(([, member]) => member !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      out.push('{');
      stack.push({ text: '}' });
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [key, member] = entries[index] as [string, unknown];
        stack.push({ value: member });
        stack.push({ text: `${JSON.stringify(key)}:` });
        if (index > 0) stack.push({ text: ',' });
      }
    } else {
      out.push(JSON.stringify(item) ?? 'null');
    }
  }
  return out.join('');
}

export function callDigest(tool: string, args: unknown): string {
  return createHash('sha256').update(tool).update('\u0000').update(canonicalJson(args ?? {})).digest('hex');
}

/** How deeply `value` nests (a scalar is 0, `{}` is 1), counting no further than `limit + 1`. */
export function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  for (let entry = stack.pop(); entry !== undefined; entry = stack.pop()) {
    const [item, depth] = entry;
    if (item === null || typeof item !== 'object') continue;
    const level = depth + 1;
    if (level > deepest) deepest = level;
    if (level > limit) return level;
    for (const member of Array.isArray(item) ? item : Object.values(item)) stack.push([member, level]);
  }
  return deepest;
}
