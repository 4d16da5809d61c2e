// A 2026-07-28 POST over Streamable HTTP: toolport reads and parses the body once, routes it
// to the modern handler without the SDK's second classification when its envelope claims the
// era, and hands the handler a Request without a body; a JSON answer goes out whole, with its
// length. These tests hold the raw HTTP exchange to that, and the routing shortcut to the SDK.
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION_META_KEY, isLegacyRequest } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimsModernEnvelope } from '../../src/server/http.js';
import { startHttpServer, type RunningServer } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const envelope = {
  [PROTOCOL_VERSION_META_KEY]: '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One POST with node:http, so the answer's framing (length or chunks) can be seen. */
function post(url: string, body: unknown, headers: Record<string, string>): Promise<RawAnswer> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(text), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const callWeather = (id: number, city: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'e2e__weather', arguments: { city, days: 2 }, _meta: envelope },
});
const callHeaders = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'e2e__weather' };

describe('2026-07-28 requests over Streamable HTTP', () => {
  let http: RunningServer;
  beforeAll(async () => {
    http = await startHttpServer([fixture]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  it('a JSON answer goes out whole, with its length in bytes (not in chunks)', async () => {
    const city = 'Zürich ✓ 東京';
    const answer = await post(`${http.url}/mcp`, callWeather(1, city), callHeaders);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['transfer-encoding']).toBeUndefined();
    expect(Number(answer.headers['content-length'])).toBe(answer.body.length);
    const message = JSON.parse(answer.body.toString('utf8')) as { id: number; result: { structuredContent: { city: string } } };
    expect(message.id).toBe(1);
    expect(message.result.structuredContent.city).toBe(city);
  });

  it('the handler still reads the headers: ones that disagree with the body are refused', async () => {
    const version = await post(`${http.url}/mcp`, callWeather(2, 'Oslo'), { ...callHeaders, 'mcp-protocol-version': '2025-11-25' });
    expect(version.status).toBe(400);
    expect(version.body.toString('utf8')).toMatch(/headers and body disagree/);
    const method = await post(`${http.url}/mcp`, callWeather(3, 'Oslo'), { ...callHeaders, 'mcp-method': 'tools/list' });
    expect(method.status).toBe(400);
    expect(method.body.toString('utf8')).toMatch(/Mcp-Method header/);
  });

  it('an initialize without the envelope is still served as the 2025-era handshake', async () => {
    const answer = await post(
      `${http.url}/mcp`,
      { jsonrpc: '2.0', id: 4, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'old', version: '1' } } },
      {},
    );
    expect(answer.status).toBe(200);
    expect(answer.headers['mcp-session-id']).toBeTruthy();
  });
});

describe('the shortcut past the SDK classification (claimsModernEnvelope)', () => {
  const claim = { _meta: { [PROTOCOL_VERSION_META_KEY]: '2026-07-28' } };
  const bodies: Record<string, unknown> = {
    'a 2026-07-28 call': { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', ...claim } },
    'a claim naming an old version': { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { [PROTOCOL_VERSION_META_KEY]: '2025-11-25' } } },
    'a claim that is not a string': { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { [PROTOCOL_VERSION_META_KEY]: 7 } } },
    'a notification with the claim': { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, ...claim } },
    'an initialize with the claim': { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2026-07-28', capabilities: {}, clientInfo: { name: 'c', version: '1' }, ...claim } },
    'an initialize without it': { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } },
    'a response that also names a method': { jsonrpc: '2.0', id: 1, method: 'tools/list', result: {}, params: claim },
    'an error response that also names a method': { jsonrpc: '2.0', id: 1, method: 'tools/list', error: { code: 1, message: 'x' }, params: claim },
    'a batch of claimed calls': [{ jsonrpc: '2.0', id: 1, method: 'tools/list', params: claim }],
    'no jsonrpc member': { id: 1, method: 'tools/list', params: claim },
    'an id that is an object': { jsonrpc: '2.0', id: {}, method: 'tools/list', params: claim },
    'params as an array': { jsonrpc: '2.0', id: 1, method: 'tools/list', params: [claim] },
    '_meta as an array': { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: [PROTOCOL_VERSION_META_KEY] } },
    'a 2025-era call': { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    'a method that is not a string': { jsonrpc: '2.0', id: 1, method: 5, params: claim },
    'null': null,
    'a string': 'tools/list',
  };
  const headerSets: Record<string, Record<string, string>> = {
    'no MCP headers': {},
    'a modern version header': { 'mcp-protocol-version': '2026-07-28' },
    'an old version header': { 'mcp-protocol-version': '2025-11-25' },
    'a method header that disagrees': { 'mcp-method': 'prompts/list' },
  };
  const asRequest = (headers: Record<string, string>): Request => new Request('http://127.0.0.1/mcp', { method: 'POST', headers: { 'content-type': 'application/json', ...headers } });

  it.each(Object.keys(bodies))('never sends the SDK\'s legacy traffic to the modern handler: %s', async (name) => {
    const body = bodies[name];
    const claimed = claimsModernEnvelope(body);
    for (const headers of Object.values(headerSets)) {
      const legacy = await isLegacyRequest(asRequest(headers), body);
      expect({ claimed, legacy }).not.toEqual({ claimed: true, legacy: true });
    }
  });

  it('takes the shortcut for what a 2026-07-28 client sends, and not for the 2025-era handshake', () => {
    expect(claimsModernEnvelope(bodies['a 2026-07-28 call'])).toBe(true);
    expect(claimsModernEnvelope(bodies['a notification with the claim'])).toBe(true);
    expect(claimsModernEnvelope(bodies['an initialize without it'])).toBe(false);
    expect(claimsModernEnvelope(bodies['a 2025-era call'])).toBe(false);
  });
});
