// A 2026-07-28 POST over Streamable HTTP: toolport reads and parses the body once, routes it
// to the modern handler without the SDK's second classification when its envelope claims the
// era, and hands the handler a Request without a body; a JSON answer goes out whole, with its
// length. These tests hold the raw HTTP exchange to that, and the routing shortcut to the SDK.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpServer, PROTOCOL_VERSION_META_KEY, createMcpHandler, isLegacyRequest, type McpHttpHandler } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { claimsModernEnvelope, parseTarget } from '../../src/server/http.js';
import { servePosted } from '../../src/server/posted-request.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { startHttpServer, type RunningServer } from '../helpers/toolport-process.js';
import { waitFor } from '../helpers/processes.js';

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

/** Raw HTTP/1.1 POST text, for what node:http's client will not send (pipelining, absolute targets). */
function rawPost(target: string, host: string, body: unknown, headers: Record<string, string>): string {
  const text = JSON.stringify(body);
  const all = { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': String(Buffer.byteLength(text)), ...headers };
  return `POST ${target} HTTP/1.1\r\n${Object.entries(all).map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${text}`;
}

const callSlow = (id: number, marker: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'e2e__slow', arguments: { steps: 100, marker }, _meta: envelope },
});
const slowHeaders = { ...callHeaders, 'mcp-name': 'e2e__slow' };

describe('2026-07-28 requests over Streamable HTTP', () => {
  const dir = useTempDir('toolport-modern-http-', 'all');
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

  it('a client that goes away cancels its calls, a call pipelined behind another too', async () => {
    const { host } = new URL(http.url);
    const first = join(dir.path, 'first');
    const second = join(dir.path, 'second');
    const socket = connect(Number(new URL(http.url).port), '127.0.0.1');
    socket.on('error', () => {});
    socket.write(rawPost('/mcp', host, callSlow(1, first), slowHeaders) + rawPost('/mcp', host, callSlow(2, second), slowHeaders));
    // Both calls run (100 steps of 50 ms each) when the client leaves.
    await new Promise((resolve) => setTimeout(resolve, 400));
    socket.destroy();
    const readMarkers = (): Promise<string[]> => Promise.resolve([first, second].map((file) => (existsSync(file) ? readFileSync(file, 'utf8') : '')));
    const markers = await waitFor(readMarkers, (seen) => seen.every((text) => text !== ''), 3_000);
    expect(markers).toEqual(['aborted', 'aborted']);
  });

  it('twenty calls pipelined on one connection are all answered, in order, with no listener piling up on the socket', async () => {
    const { host } = new URL(http.url);
    const socket = connect(Number(new URL(http.url).port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    const ids = Array.from({ length: 20 }, (_, index) => 100 + index);
    const call = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'e2e__slow', arguments: { steps: 2 }, _meta: envelope } });
    socket.write(ids.map((id) => rawPost('/mcp', host, call(id), slowHeaders)).join(''));
    await waitFor(() => Promise.resolve(received), (text) => text.includes('"id":119'), 10_000);
    socket.destroy();
    const answered = [...received.matchAll(/"id":(\d+)/g)].map((match) => Number(match[1]));
    expect(answered).toEqual(ids);
    expect(http.stderr()).not.toContain('MaxListenersExceededWarning');
  });

  it('a POST whose request target is an absolute URL is served as its path', async () => {
    const { host } = new URL(http.url);
    const socket = connect(Number(new URL(http.url).port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
    socket.write(rawPost(`http://${host}/mcp`, host, callWeather(5, 'Lima'), callHeaders));
    await waitFor(() => Promise.resolve(received), (text) => text.includes('"id":5'), 5_000);
    socket.destroy();
    expect(received).toMatch(/^HTTP\/1\.1 200/);
    expect(received).toContain('sun in Lima');
    expect(http.stderr()).not.toContain('HTTP request failed');
  });

  it('so is a 2025-era POST, and a GET answers as it does with a path', async () => {
    const { host } = new URL(http.url);
    const exchange = async (text: string): Promise<string> => {
      const socket = connect(Number(new URL(http.url).port), '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      socket.write(text);
      await waitFor(() => Promise.resolve(received), (answer) => /\r\n\r\n/.test(answer) && (/"id":/.test(answer) || /^HTTP\/1\.1 405/.test(answer)), 5_000);
      socket.destroy();
      return received;
    };
    const list = { jsonrpc: '2.0', id: 6, method: 'tools/list', params: {} };
    const legacy = await exchange(rawPost(`http://${host}/mcp`, host, list, { 'mcp-protocol-version': '2025-06-18' }));
    expect(legacy).toMatch(/^HTTP\/1\.1 200/);
    expect(legacy).toContain('e2e__weather');
    const get = (target: string): string => `GET ${target} HTTP/1.1\r\nhost: ${host}\r\naccept: text/event-stream\r\n\r\n`;
    const relative = await exchange(get('/mcp'));
    const absolute = await exchange(get(`http://${host}/mcp`));
    expect(absolute.split('\r\n')[0]).toBe(relative.split('\r\n')[0]);
  });

  it('a target that would reach /mcp only once resolved is not served as /mcp, and none is a warning in the log', async () => {
    const { host } = new URL(http.url);
    const statusOf = async (target: string, hostHeader = host): Promise<string> => {
      const socket = connect(Number(new URL(http.url).port), '127.0.0.1');
      let received = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (received += chunk));
      socket.write(rawPost(target, hostHeader, callWeather(21, 'Bern'), callHeaders));
      await waitFor(() => Promise.resolve(received), (answer) => answer.includes('\r\n\r\n'), 5_000);
      socket.destroy();
      return received.split('\r\n', 1)[0] ?? '';
    };
    // A path, however it starts, is a path: `//evil/mcp` names no host.
    expect(await statusOf('//evil/mcp')).toMatch(/ 404 /);
    expect(await statusOf('/\\evil/mcp')).toMatch(/ 400 /);
    // Dot segments are refused rather than resolved to /mcp.
    expect(await statusOf('/x/%2e%2e/mcp')).toMatch(/ 400 /);
    expect(await statusOf('/x/../mcp')).toMatch(/ 400 /);
    // A backslash too: URL parsing would read `\\..\\` as `/../`.
    expect(await statusOf('/x\\..\\mcp')).toMatch(/ 400 /);
    // A default port is the same host whether written or not.
    expect(await statusOf('http://localhost:80/mcp', 'localhost:80')).toMatch(/ 200 /);
    // Absolute-form only for the Host it names; a target that is no URL at all is a 400.
    expect(await statusOf('http://evil.example/mcp')).toMatch(/ 400 /);
    expect(await statusOf('//:99999/mcp')).toMatch(/ 40[04] /);
    expect(await statusOf('*')).toMatch(/ 400 /);
    expect(await statusOf('/mcp')).toMatch(/ 200 /);
    expect(http.stderr()).not.toContain('HTTP request failed');
  });

  it('a client that leaves in the middle of its body is no warning in the log', async () => {
    const { host } = new URL(http.url);
    const socket = connect(Number(new URL(http.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`POST /mcp HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: 1000\r\n\r\n{"jsonrpc":"2.0",`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    socket.resetAndDestroy();
    // The server still serves, and said nothing above debug about the one that left.
    const answer = await post(`${http.url}/mcp`, callWeather(7, 'Quito'), callHeaders);
    expect(answer.status).toBe(200);
    expect(http.stderr()).not.toContain('HTTP request failed');
  });
});

describe('servePosted with the SDK handler, on a real HTTP server', () => {
  const seen: string[] = [];
  const factory = (): McpServer => {
    const server = new McpServer({ name: 'door', version: '1' });
    server.registerTool('wait', { inputSchema: z.object({}) }, async (_args, ctx) => {
      seen.push('started');
      await new Promise<void>((resolve) => {
        if (ctx.mcpReq.signal.aborted) resolve();
        else ctx.mcpReq.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      seen.push('aborted');
      return { content: [{ type: 'text', text: 'stopped' }] };
    });
    return server;
  };
  const waitCall = { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'wait', arguments: {}, _meta: envelope } };
  const waitHeaders = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'wait' };

  /** A server that reads the body, runs `before`, then serves through servePosted; resolves with how serving ended. */
  async function serveWith(before: (req: IncomingMessage, res: ServerResponse) => Promise<void>, handler = createMcpHandler(factory, { legacy: 'reject' })) {
    const errors: unknown[] = [];
    let served: Promise<void> | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        served = before(req, res).then(() => servePosted(handler, req, res, body, (error) => errors.push(error)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}/mcp`, errors, served: () => served, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('a handler closed by shutdown answers 500 with the request\'s id, and reports why', async () => {
    const handler = createMcpHandler(factory, { legacy: 'reject' });
    const door = await serveWith(() => handler.close(), handler);
    try {
      const answer = await post(door.url, waitCall, waitHeaders);
      expect(answer.status).toBe(500);
      expect(JSON.parse(answer.body.toString('utf8'))).toMatchObject({ error: { code: -32603 }, id: 9 });
      expect(String(door.errors[0])).toMatch(/closed/);
    } finally {
      await door.close();
    }
  });

  it('a call whose server the handler closes under it (shutting down) answers 503 with the request\'s id, not an empty 499', async () => {
    seen.length = 0;
    const handler = createMcpHandler(factory, { legacy: 'reject' });
    const door = await serveWith(() => Promise.resolve(), handler);
    try {
      const answer = post(door.url, waitCall, waitHeaders);
      await waitFor(() => Promise.resolve(seen.includes('started')), (started) => started, 3_000);
      await handler.close();
      const { status, headers, body } = await answer;
      expect(status).toBe(503);
      expect(headers.connection).toBe('close');
      expect(JSON.parse(body.toString('utf8'))).toMatchObject({ error: { code: -32000, message: expect.stringMatching(/shutting down/) as unknown }, id: 9 });
    } finally {
      await door.close();
    }
  });

  it('a stream that ignores its cancellation is cancelled when the client leaves', async () => {
    let cancelled = false;
    // A handler whose event stream never ends by itself and does not watch the request's signal.
    const endless: McpHttpHandler = {
      fetch: () =>
        Promise.resolve(
          new Response(new ReadableStream<Uint8Array>({ start: (controller) => controller.enqueue(new TextEncoder().encode('event: message\ndata: {}\n\n')), cancel: () => void (cancelled = true) }), {
            headers: { 'content-type': 'text/event-stream' },
          }),
        ),
    } as unknown as McpHttpHandler;
    const door = await serveWith(() => Promise.resolve(), endless);
    try {
      const text = JSON.stringify(waitCall);
      const client = httpRequest(door.url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...waitHeaders } }, (res) => {
        res.once('data', () => client.destroy());
      });
      client.on('error', () => {});
      client.end(text);
      await waitFor(() => Promise.resolve(door.served() !== undefined), (started) => started, 3_000);
      const outcome = await Promise.race([door.served()!.then(() => 'ended'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3_000))]);
      expect(outcome).toBe('ended');
      expect(cancelled).toBe(true);
    } finally {
      await door.close();
    }
  });

  it('a client gone before serving starts: the call is cancelled and serving ends', async () => {
    seen.length = 0;
    const door = await serveWith((_req, res) => new Promise<void>((resolve) => (res.destroyed ? resolve() : res.once('close', () => resolve()))));
    try {
      const text = JSON.stringify(waitCall);
      const client = httpRequest(door.url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': Buffer.byteLength(text), ...waitHeaders } });
      client.on('error', () => {});
      client.end(text);
      // The body has arrived (serving waits for the response to close): now the client leaves.
      await waitFor(() => Promise.resolve(door.served() !== undefined), (started) => started, 3_000);
      client.destroy();
      const outcome = await Promise.race([door.served()!.then(() => 'ended'), new Promise((resolve) => setTimeout(() => resolve('still waiting'), 3_000))]);
      expect(outcome).toBe('ended');
      expect(seen.filter((event) => event === 'started').length).toBe(seen.filter((event) => event === 'aborted').length);
    } finally {
      await door.close();
    }
  });
});

describe('parseTarget', () => {
  it('takes a path, or an absolute URL for the Host it names, and nothing that only resolves to one', () => {
    const host = '127.0.0.1:9';
    expect(parseTarget('/mcp?q=a\\b', host)).toBeInstanceOf(URL);
    expect(parseTarget('http://127.0.0.1:9/mcp', host)).toBeInstanceOf(URL);
    expect(parseTarget('http://[::1]:9/mcp', '[::1]:9')).toBeInstanceOf(URL);
    expect(parseTarget('HTTP://LOCALHOST:80/mcp', 'localhost')).toBeInstanceOf(URL);
    // A backslash right after the host, which URL parsing would read as a slash.
    expect(parseTarget('http://127.0.0.1:9\\x\\..\\mcp', host)).toEqual(expect.any(String));
    // A Host header that is more than a host and a port does not name the target's host.
    expect(parseTarget('http://127.0.0.1:9/mcp', 'evil@127.0.0.1:9')).toEqual(expect.any(String));
    expect(parseTarget('http://127.0.0.1:9/mcp', '127.0.0.1:9/x')).toEqual(expect.any(String));
    expect(parseTarget('http://127.0.0.1:9/mcp', undefined)).toEqual(expect.any(String));
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
