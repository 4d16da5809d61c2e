// What toolport's own wires write for a message: with a kept tools/list page, the same
// bytes as JSON.stringify, made from the page's JSON kept once; everything else as it is.
import type { JSONRPCMessage } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { createToolPages } from '../../src/server/mcp-server.js';
import { keepPageJson, serializeForWire } from '../../src/server/serialize.js';

const tool = (name: string, description: string) => ({
  name,
  description,
  inputSchema: { type: 'object', properties: { text: { type: 'string', description: 'with "quotes", \\ and\nnewlines' } } },
  _meta: { 'toolport/origin': { plugin: 'p', tool: name } },
});
const written = (output: string | Buffer): string => (typeof output === 'string' ? output : output.toString('utf8'));

describe('serializeForWire', () => {
  it('writes an answer listing a kept page byte for byte as JSON.stringify would, however often', () => {
    const page = [tool('p__a', 'plain'), tool('p__b', 'ünïcödé, 😀 and \u2028')];
    keepPageJson(page);
    const answers = [
      { result: { tools: page }, jsonrpc: '2.0', id: 7 },
      { jsonrpc: '2.0', id: 'id with "quotes" and ü', result: { tools: page, nextCursor: 'abc', _meta: { x: 1 }, [Symbol('hint')]: 'not written' } },
      { result: { nextCursor: 'before the tools', tools: page, resultType: 'complete' }, jsonrpc: '2.0', id: 0 },
    ] as unknown as JSONRPCMessage[];
    for (const answer of [...answers, ...answers]) {
      const output = serializeForWire(answer, 'event: message\ndata: ', '\n\n');
      expect(Buffer.isBuffer(output)).toBe(true);
      expect(written(output)).toBe(`event: message\ndata: ${JSON.stringify(answer)}\n\n`);
      expect((output as Buffer).length).toBe(Buffer.byteLength(`event: message\ndata: ${JSON.stringify(answer)}\n\n`));
    }
  });

  it('writes everything else with JSON.stringify: pages not kept, other results, requests, errors', () => {
    const notKept = [tool('p__c', 'c')];
    const messages = [
      { result: { tools: notKept }, jsonrpc: '2.0', id: 1 },
      { result: { tools: 'not a list' }, jsonrpc: '2.0', id: 2 },
      { jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: 'hi' }] } },
      { jsonrpc: '2.0', id: 4, method: 'tools/list', params: {} },
      { jsonrpc: '2.0', id: 5, error: { code: -32602, message: 'Invalid cursor' } },
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed' },
    ] as unknown as JSONRPCMessage[];
    for (const message of messages) expect(serializeForWire(message, '', '\n')).toBe(`${JSON.stringify(message)}\n`);
  });


  it('writes an answer whose result or message has a toJSON with JSON.stringify, kept page or not', () => {
    const page = [tool('p__e', 'e')];
    keepPageJson(page);
    const results = [
      { jsonrpc: '2.0', id: 1, result: { tools: page, toJSON: () => ({ hidden: true }) } },
      { jsonrpc: '2.0', id: 2, result: { tools: page }, toJSON: () => ({ replaced: 'whole' }) },
    ] as unknown as JSONRPCMessage[];
    for (const message of results) expect(written(serializeForWire(message, '', '\n'))).toBe(`${JSON.stringify(message)}\n`);
  });
});

describe('tool pages', () => {
  const tools = Array.from({ length: 25 }, (_, index) => tool(`p__t${index}`, 'a tool')) as unknown as Parameters<ReturnType<typeof createToolPages>>[0];
  const cursorFor = (offset: number): string => Buffer.from(JSON.stringify({ o: offset })).toString('base64url');

  it('gives the same array for a page its own cursors lead to, so its JSON is made once', () => {
    const pages = createToolPages(10);
    const first = pages(tools, undefined);
    expect(pages(tools, undefined).page).toBe(first.page);
    const second = pages(tools, first.nextCursor);
    expect(second.page.map((entry) => entry.name)).toEqual(tools.slice(10, 20).map((entry) => entry.name));
    expect(pages(tools, first.nextCursor).page).toBe(second.page);
    expect(pages(tools, second.nextCursor).nextCursor).toBeUndefined();
  });

  it('keeps nothing for a cursor a client made up: any offset, or past the end', () => {
    const pages = createToolPages(10);
    for (const offset of [3, 17, 25, 10_000]) {
      const once = pages(tools, cursorFor(offset));
      expect(once.page.map((entry) => entry.name)).toEqual(tools.slice(offset, offset + 10).map((entry) => entry.name));
      expect(pages(tools, cursorFor(offset)).page).not.toBe(once.page);
    }
  });
});
