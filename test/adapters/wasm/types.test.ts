// Every WIT type crosses a real MCP call both ways: a real SDK client calls the built
// toolport CLI, which runs the kitchen fixture (componentize-js) in a worker. And the
// tool schemas refuse what jco would silently wrap or misread.
import type { Client } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, startHttpServer, type RunningServer } from '../../helpers/toolport-process.js';
import { buildWatFixture } from '../../fixtures/wasm/build.js';
import { kitchenWasm, sharedCacheDir, textOf, writeConfig } from './helpers.js';

let server: RunningServer;
let client: Client;

beforeAll(async () => {
  const scalars = await buildWatFixture('scalars');
  const config = await writeConfig({
    plugins: [
      { path: kitchenWasm, cacheDir: sharedCacheDir, timeoutSeconds: 60 },
      { path: scalars.wasm, wit: scalars.wit, cacheDir: sharedCacheDir },
    ],
  });
  server = await startHttpServer(['--config', config]);
  client = await connectClient('http-2025', { url: server.url });
}, 120_000);

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

async function call(tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const name = tool.includes('__') ? tool : `kitchen__${tool}`;
  return (await client.callTool({ name, arguments: args }));
}

const everything = {
  flag: true,
  tiny: -128,
  'small-unsigned': 65_535,
  big: '-9223372036854775808',
  huge: '18446744073709551615',
  ratio: 0.1,
  letter: '🌍',
  name: 'Zoë',
  tags: ['a', 'b'],
  pair: [255, 'x'],
  nickname: 'Z',
  color: 'blue-ish',
  permissions: ['read', 'exec-all'],
  shape: { tag: 'circle', val: 2.5 },
};

// [tool, argument, what comes back (default: the argument)]. Scalars at their limits go
// to identity functions written in WAT (scalars__*): the JS engine of componentize-js 0.23
// mangles some flat scalars itself (u32 >= 2^31 as a direct result, negative s64 as a
// direct argument traps: ComponentizeJS#343); inside records and tuples they travel fine.
const roundTrips: [string, unknown, unknown?][] = [
  ['scalars__echo-bool', true],
  ['scalars__echo-bool', false],
  ['scalars__echo-s8', -128],
  ['scalars__echo-s8', 127],
  ['scalars__echo-u8', 255],
  ['scalars__echo-s16', -32_768],
  ['scalars__echo-u16', 65_535],
  ['scalars__echo-s32', -2_147_483_648],
  ['scalars__echo-s32', 2_147_483_647],
  ['scalars__echo-u32', 4_294_967_295],
  ['scalars__echo-u32', 2_147_483_648],
  ['scalars__echo-s64', -9_007_199_254_740_991],
  ['scalars__echo-s64', '-9223372036854775808'],
  ['scalars__echo-s64', '9223372036854775807'],
  // A decimal string within 2^53 comes back as a number.
  ['scalars__echo-s64', '-42', -42],
  ['scalars__echo-u64', 0],
  ['scalars__echo-u64', '18446744073709551615'],
  ['scalars__echo-u64', 9_007_199_254_740_991],
  ['scalars__echo-u64', '9007199254740993'],
  ['scalars__echo-f32', 0.1],
  ['scalars__echo-f32', 3.4028234663852886e38, 3.4028235e38],
  ['scalars__echo-f32', 1e-45, 1e-45],
  ['scalars__echo-f64', 1.7976931348623157e308],
  ['scalars__echo-f64', 5e-324],
  ['scalars__echo-f64', -0.5],
  ['scalars__echo-char', 'a'],
  ['scalars__echo-char', '🌍'],
  ['scalars__echo-char', '\u{10FFFF}'],
  ['echo-bool', true],
  ['echo-s8', -128],
  ['echo-s16', -32_768],
  ['echo-s32', -2_147_483_648],
  ['echo-u8', 255],
  ['echo-u16', 65_535],
  ['echo-u32', 2_147_483_647],
  ['echo-s64', '9223372036854775807'],
  ['echo-u64', '18446744073709551615'],
  ['echo-f32', 0.1],
  ['echo-f32', -3.5],
  ['echo-f64', 1.7976931348623157e308],
  ['echo-char', '🌍'],
  ['echo-string', 'hello, wörld 🌍\n"quoted"'],
  ['echo-string', ''],
  ['echo-strings', ['a', 'b', '']],
  ['echo-strings', []],
  ['echo-bytes', [0, 1, 127, 255]],
  ['echo-wide-list', ['-9223372036854775808', 5, '9223372036854775807']],
  ['echo-tuple', ['x', 4_294_967_295, false]],
  ['echo-record', everything],
  ['echo-record', { ...everything, nickname: null }],
  ['echo-option', 'some text'],
  ['echo-option', null],
  ['echo-nested-option', { tag: 'none' }],
  ['echo-nested-option', { tag: 'some', val: null }],
  ['echo-nested-option', { tag: 'some', val: 7 }],
  ['echo-results', [{ ok: 1 }, { err: 'bad' }]],
  ['echo-variant', { tag: 'circle', val: 1.25 }],
  ['echo-variant', { tag: 'square', val: 3 }],
  ['echo-variant', { tag: 'nothing' }],
  ['echo-enum', 'blue-ish'],
  ['echo-flags', ['read', 'exec-all']],
  ['echo-flags', []],
];

describe('wasm: WIT values through a real MCP call', () => {
  it.each(roundTrips)('%s(%j) round-trips', async (tool, value, expected = value) => {
    const result = await call(tool, { v: value });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ result: expected });
    // The text is the value itself for strings, its JSON otherwise.
    expect(textOf(result)).toBe(typeof expected === 'string' ? expected : JSON.stringify(expected));
  });

  it('an omitted option argument and option record field are none', async () => {
    expect((await call('echo-option', {})).structuredContent).toEqual({ result: null });
    const withoutNickname: Record<string, unknown> = { ...everything };
    delete withoutNickname.nickname;
    expect((await call('echo-record', { v: withoutNickname })).structuredContent).toEqual({ result: { ...everything, nickname: null } });
  });

  it('a top-level result: ok is the value, err is an isError result with the error value', async () => {
    const ok = await call('check-even', { v: 4 });
    expect(ok.isError).toBeFalsy();
    expect(ok.structuredContent).toEqual({ result: 4 });
    const err = await call('check-even', { v: 3 });
    expect(err.isError).toBe(true);
    expect(textOf(err)).toBe('3 is odd');
    expect(err.structuredContent).toBeUndefined();
  });

  it('NaN and infinities come back as strings JSON can carry', async () => {
    const result = await call('odd-floats', {});
    expect(result.structuredContent).toEqual({ result: ['NaN', '-Infinity', 3.4028235e38] });
  });

  it('functions of an exported interface are tools too', async () => {
    const result = await call('shapes_move', { p: { x: 1, y: -2 }, dx: 10, dy: 20 });
    expect(result.structuredContent).toEqual({ result: { x: 11, y: 18 } });
    expect((await call('shapes_distance', { a: { x: 0, y: 0 }, b: { x: 3, y: 4 } })).structuredContent).toEqual({ result: 5 });
  });

  it('tools/list shows the schemas clients validate against', async () => {
    const { tools } = await client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    expect(byName.get('kitchen__echo-u8')?.inputSchema).toEqual({
      type: 'object',
      properties: { v: { type: 'integer', minimum: 0, maximum: 255 } },
      required: ['v'],
      additionalProperties: false,
    });
    const move = byName.get('kitchen__shapes_move');
    expect(move?.description).toBe('Moves a point.');
    expect(move?.outputSchema).toMatchObject({ properties: { result: { title: 'point', required: ['x', 'y'] } }, required: ['result'] });
    const record = byName.get('kitchen__echo-record')?.inputSchema.properties?.v as Record<string, unknown>;
    expect(record).toMatchObject({ type: 'object', additionalProperties: false, title: 'everything', description: 'One of everything.' });
    expect(record.required).not.toContain('nickname');
    expect(record.required).toContain('shape');
    expect(byName.get('kitchen__echo-option')?.inputSchema.required).toEqual([]);
  });
});

// [tool, argument, part of the message]
const refusals: [string, unknown, string][] = [
  ['scalars__echo-u8', 256, '/v: must be <= 255'],
  ['scalars__echo-s64', '-9223372036854775809', '/v: must match pattern'],
  ['echo-u8', 256, '/v: must be <= 255'],
  ['echo-u8', -1, '/v: must be >= 0'],
  ['echo-u8', 1.5, '/v: must be integer'],
  ['echo-u8', '3', '/v: must be integer'],
  ['echo-s8', 128, '/v: must be <= 127'],
  ['echo-u32', 4_294_967_296, '/v: must be <= 4294967295'],
  ['echo-s64', '9223372036854775808', '/v: must match pattern'],
  ['echo-s64', 9_007_199_254_740_993, '/v: must be <= 9007199254740991'],
  ['echo-u64', '-1', '/v: must match pattern'],
  ['echo-u64', '18446744073709551616', '/v: must match pattern'],
  ['echo-u64', '007', '/v: must match pattern'],
  ['echo-f32', 1e39, '/v: must be <= 3.4028234663852886e+38'],
  ['echo-bool', 'true', '/v: must be boolean'],
  ['echo-char', 'ab', '/v: must NOT have more than 1 characters'],
  ['echo-char', '', '/v: must NOT have fewer than 1 characters'],
  ['echo-string', 42, '/v: must be string'],
  ['echo-bytes', [1, 256], '/v/1: must be <= 255'],
  ['echo-tuple', ['x', 1], '/v: must NOT have fewer than 3 items'],
  ['echo-tuple', ['x', 1, true, 'extra'], '/v: must NOT have more than 3 items'],
  ['echo-enum', 'purple', '/v: must be one of ["red","green","blue-ish"]'],
  ['echo-flags', ['read', 'read'], '/v: must NOT have duplicate items'],
  ['echo-flags', ['fly'], '/v/0: must be one of ["read","write","exec-all"]'],
  ['echo-variant', { tag: 'circle' }, '/v: must match exactly one schema in oneOf'],
  ['echo-variant', { tag: 'hexagon', val: 1 }, '/v: must match exactly one schema in oneOf'],
  ['echo-record', { ...everything, extra: 1 }, '/v: unexpected property "extra"'],
  ['echo-record', { ...everything, tiny: undefined }, "/v: must have required property 'tiny'"],
  ['echo-record', { ...everything, 'small-unsigned': 65_536 }, '/v/small-unsigned: must be <= 65535'],
  ['echo-results', [{ ok: 1, err: 'both' }], '/v/0: must match exactly one schema in oneOf'],
];

describe('wasm: arguments are checked before they reach jco', () => {
  it.each(refusals)('%s(%j) is refused', async (tool, value, message) => {
    const result = await call(tool, { v: value });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(`Invalid arguments for ${tool.includes('__') ? tool : `kitchen__${tool}`}:`);
    expect(textOf(result)).toContain(message);
  });

  it('unknown and missing parameters are refused', async () => {
    expect(textOf(await call('echo-u8', {}))).toContain("must have required property 'v'");
    expect(textOf(await call('echo-u8', { v: 1, w: 2 }))).toContain('unexpected property "w"');
  });
});
