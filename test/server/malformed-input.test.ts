// Malformed input never kills the server: garbage over HTTP and stdio gets an error (or
// is dropped), and a normal call still succeeds afterwards, for this client and others.
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, initializeRequest as initialize, startHttpServer, startStdioProcess, type RunningServer } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));

describe('over HTTP', () => {
  let http: RunningServer;
  beforeAll(async () => {
    http = await startHttpServer([fixture]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${http.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body,
    });

  it('answers invalid JSON with a parse error', async () => {
    const response = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: -32700 } });
  });

  it('answers JSON that is not JSON-RPC with an error', async () => {
    for (const body of ['42', '"hello"', '[]', '{}', '{"jsonrpc":"2.0"}']) {
      const response = await post(body);
      expect(response.status, body).toBeGreaterThanOrEqual(400);
      expect(response.status, body).toBeLessThan(500);
    }
  });

  it('answers an unknown method with method-not-found', async () => {
    const opened = await post(JSON.stringify(initialize));
    const session = opened.headers.get('mcp-session-id');
    expect(session).toBeTruthy();
    await opened.text();
    const response = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/explode', params: {} }), {
      'mcp-session-id': session!,
      'mcp-protocol-version': '2025-11-25',
    });
    expect(await response.text()).toMatch(/"code":-32601/);
  });

  it('refuses a huge body with 413 before reading it all', async () => {
    const response = await post(new Uint8Array(6 * 1024 * 1024).fill(0x20));
    expect(response.status).toBe(413);
  });

  it('refuses a wrong content type with 415', async () => {
    const response = await post(JSON.stringify(initialize), { 'content-type': 'text/plain' });
    expect(response.status).toBe(415);
  });

  it('answers an unknown session with 404 and an unknown path with 404', async () => {
    const unknownSession = await post(JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }), { 'mcp-session-id': 'no-such-session' });
    expect(unknownSession.status).toBe(404);
    expect((await fetch(`${http.url}/admin`)).status).toBe(404);
  });

  it('refuses a foreign Host or Origin (DNS rebinding) with 403', async () => {
    const { request } = await import('node:http');
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${http.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(JSON.stringify(initialize));
      });
    expect(await status({ host: 'evil.example:80' })).toBe(403);
    expect(await status({ origin: 'http://evil.example' })).toBe(403);
  });

  it('survives raw garbage on the socket', async () => {
    const url = new URL(http.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.end('\x00\x01 GARBAGE / NOT-HTTP\r\n\r\n');
      });
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
      socket.resume();
    });
  });

  it('still serves a normal client afterwards', async () => {
    const client = await connectClient('http-2025', { url: http.url });
    const result = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Bergen' } });
    expect(result.structuredContent).toMatchObject({ city: 'Bergen' });
    await client.close();
    expect(http.process.exitCode).toBeNull();
  });
});

describe('over stdio', () => {
  it('answers or drops garbage lines and keeps serving', async () => {
    const server = startStdioProcess([fixture], { logLevel: 'silent' });
    try {
      server.send(initialize);
      expect(await server.reply(1)).toMatchObject({ result: { protocolVersion: '2025-11-25' } });
      server.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      server.send('this is not json');
      server.send('{"jsonrpc":"2.0","id":2,"method":');
      server.send('[1,2,3]');
      server.send({ jsonrpc: '2.0', id: 3, method: 'tools/explode' });
      server.send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'e2e__weather', arguments: 'not an object' } });
      server.send({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'e2e__weather', arguments: { city: 'x'.repeat(1024 * 1024) } } });
      server.send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'e2e__weather', arguments: { city: 'Tromsø' } } });
      expect(await server.reply(3)).toMatchObject({ error: { code: -32601 } });
      expect(await server.reply(4)).toHaveProperty('error');
      expect(await server.reply(5)).toMatchObject({ result: { structuredContent: { days: 1 } } });
      expect(await server.reply(6)).toMatchObject({ result: { structuredContent: { city: 'Tromsø', days: 1 } } });
      expect(server.nonJson).toEqual([]);
      expect(server.process.exitCode).toBeNull();
    } finally {
      await server.end();
    }
  });
});
