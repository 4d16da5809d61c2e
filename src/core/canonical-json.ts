// JSON with object keys sorted at every level, so equal values always give equal text (call
// digests, tool-definition comparisons). Built without recursion, so no input, however deeply
// nested, can overflow the stack here.

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
