// Bearer tokens on the HTTP transports: no token or a wrong one gets 401 with
// WWW-Authenticate; a scoped token sees and calls only its tools; /healthz stays open.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, serveConfig, type ConfiguredServer } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const adminToken = 'admin-secret-0123456789';
const botToken = 'bot-secret-9876543210';

let http: ConfiguredServer;

beforeAll(async () => {
  http = await serveConfig(
    [
      'server:',
      '  http:',
      '    auth:',
      '      tokens:',
      '        - ${ADMIN_TOKEN}',
      '        - { token: "${BOT_TOKEN}", principal: weather-bot, tools: ["e2e__weather"] }',
      'plugins:',
      `  - path: ${fixture}`,
    ],
    { env: { ADMIN_TOKEN: adminToken, BOT_TOKEN: botToken } },
  );
});

afterAll(async () => {
  await http?.stop();
});

describe('HTTP bearer tokens', () => {
  it('401 with WWW-Authenticate without a token or with a wrong one', async () => {
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: `Basic ${adminToken}` }] as Record<string, string>[]) {
      const response = await fetch(`${http.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
    }
    expect((await fetch(`${http.url}/sse`)).status).toBe(401);
  });

  it('/healthz needs no token', async () => {
    expect(await (await fetch(`${http.url}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  it('an unscoped token sees every tool, over both HTTP eras and SSE', async () => {
    for (const era of ['http-2025', 'http-2026', 'sse'] as const) {
      const client = await connectClient(era, { url: http.url, headers: { authorization: `Bearer ${adminToken}` } });
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names, era).toEqual(expect.arrayContaining(['e2e__weather', 'e2e__fail', 'e2e__slow']));
      await client.close();
    }
  });

  it.each(['http-2025', 'http-2026', 'sse'] as const)('a scoped token sees and calls only its tools over %s', async (era) => {
    const client = await connectClient(era, { url: http.url, headers: { authorization: `Bearer ${botToken}` } });
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['e2e__weather']);
    const ok = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Nuuk' } });
    expect(ok.structuredContent).toMatchObject({ city: 'Nuuk' });
    await expect(client.callTool({ name: 'e2e__fail', arguments: {} })).rejects.toMatchObject({ code: -32602 });
    await client.close();
  });

  it('an SSE session opened by one principal cannot be driven by another', async () => {
    const abort = new AbortController();
    const stream = await fetch(`${http.url}/sse`, { headers: { authorization: `Bearer ${botToken}` }, signal: abort.signal });
    try {
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      let text = '';
      while (!/data: (\S+)/.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
      }
      const endpoint = /data: (\S+)/.exec(text)?.[1] ?? '';
      expect(endpoint).toMatch(/^\/messages\?sessionId=/);
      const post = (token: string): Promise<Response> =>
        fetch(`${http.url}${endpoint}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        });
      expect((await post(adminToken)).status).toBe(403);
      expect((await post(botToken)).status).toBe(202);
    } finally {
      abort.abort();
    }
  });

  it('never writes a token to the log', () => {
    expect(http.stderr()).not.toContain(adminToken);
    expect(http.stderr()).not.toContain(botToken);
  });
});
