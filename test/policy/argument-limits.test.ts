// The argument size limit is exact: toolport skips measuring arguments whose upper bound is
// under the limit, so the bound must never be below the real JSON size, and arguments of
// exactly the limit pass while one byte more is refused.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { jsonShape } from '../../src/policy/digest.js';
import { createToolport } from '../../src/toolport.js';
import { callTool } from '../helpers/call-tool.js';
import { textOf } from '../helpers/wait.js';

const crashy = fileURLToPath(new URL('../fixtures/policy/crashy.mjs', import.meta.url));
const jsonBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

describe('jsonShape', () => {
  const awkward = [
    '',
    'plain',
    '\u0000\u0001\u001f', // escaped as \u0000: 6 bytes each
    '"\\\n\t',
    '\ud800', // a lone surrogate: escaped, 6 bytes
    '\udfff\ud800x',
    '😀 naïve 中文',
    '\u2028\u2029',
  ];
  const values: unknown[] = [
    ...awkward,
    awkward,
    Object.fromEntries(awkward.map((text, index) => [text, index])),
    { n: -1.2345678901234567e308, m: Number.MIN_VALUE, t: true, f: false, z: null, nested: [[[{ a: [] }]]] },
    [1e21, -0, 5e-324, Number.MAX_SAFE_INTEGER],
    Object.create(null) as unknown,
  ];

  it.each(values.map((value) => [JSON.stringify(value).slice(0, 40), value]))('bounds %s from above', (_label, value) => {
    expect(jsonShape(value, 64).maxBytes).toBeGreaterThanOrEqual(jsonBytes(value));
  });

  it('counts depth as nestingDepth did: a scalar is 0, {} is 1, and stops past the limit', () => {
    expect(jsonShape('x', 5).depth).toBe(0);
    expect(jsonShape({}, 5).depth).toBe(1);
    expect(jsonShape({ a: [{ b: 1 }] }, 5).depth).toBe(3);
    expect(jsonShape(JSON.parse(`${'['.repeat(50)}${']'.repeat(50)}`), 5).depth).toBe(6);
  });

  it('gives up on objects that write their own JSON', () => {
    expect(jsonShape({ when: new Date(0) }, 5).maxBytes).toBe(Infinity);
  });
});

describe('defaults.maxArgumentBytes', () => {
  it('lets arguments of exactly the limit through and refuses one byte more', async () => {
    const limit = 2048;
    const toolport = await createToolport(
      parseConfig({ defaults: { maxArgumentBytes: limit }, policy: { unknownSideEffects: 'allow' }, plugins: [{ path: crashy }] }, { env: {} }),
    );
    try {
      // {"blob":"…"} is 11 bytes around the text.
      const atLimit = { blob: 'x'.repeat(limit - 11) };
      expect(jsonBytes(atLimit)).toBe(limit);
      const fits = await callTool(toolport, 'crashy__echo', atLimit);
      expect(fits.isError).not.toBe(true);
      expect(textOf(fits)).toBe(`got ${limit} bytes`);
      const over = await callTool(toolport, 'crashy__echo', { blob: 'x'.repeat(limit - 10) });
      expect(over.isError).toBe(true);
      expect(textOf(over)).toContain(`are ${limit + 1} bytes as JSON, more than ${limit}`);
      // Escapes count as JSON writes them: 400 control characters are 2,400 bytes as JSON, not 400.
      const escaped = await callTool(toolport, 'crashy__echo', { blob: '\u0001'.repeat(400) });
      expect(escaped.isError).toBe(true);
    } finally {
      await toolport.close();
    }
  });
});
