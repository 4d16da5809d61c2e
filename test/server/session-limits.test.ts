// Fair sessions over a real HTTP server on loopback: one principal cannot take the sessions
// every other principal needs (2025-era Streamable HTTP and legacy SSE share the caps); the
// 503 names the limit that was hit and carries Retry-After; idle sessions are closed.
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, initializeRequest, serveConfig, type ConfiguredServer } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));

interface Opened {
  status: number;
  sessionId: string | null;
  retryAfter: string | null;
  message: string | undefined;
}

/** POSTs an initialize as `token` (a new 2025-era session when admitted). */
async function openSession(url: string, token: string): Promise<Opened> {
  const response = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify(initializeRequest),
  });
  const text = await response.text();
  let message: string | undefined;
  if (response.status !== 200) message = (JSON.parse(text) as { error?: { message?: string } }).error?.message;
  return { status: response.status, sessionId: response.headers.get('mcp-session-id'), retryAfter: response.headers.get('retry-after'), message };
}

/** A 503 that names the cap hit and says when to retry. */
function expectRefused(opened: Opened, cap: RegExp): void {
  expect(opened.status).toBe(503);
  expect(opened.message).toMatch(cap);
  expect(Number(opened.retryAfter)).toBeGreaterThanOrEqual(1);
}

/** A request on an open session: its HTTP status. */
async function useSession(url: string, token: string, sessionId: string): Promise<number> {
  const response = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      authorization: `Bearer ${token}`,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
  });
  await response.text();
  return response.status;
}

interface SseStream {
  status: number;
  retryAfter: string | null;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close: () => void;
}

async function openSseStream(url: string, token: string): Promise<SseStream> {
  const abort = new AbortController();
  const response = await fetch(`${url}/sse`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
  const ended = response.text().then(
    () => {},
    () => {},
  );
  return { status: response.status, retryAfter: response.headers.get('retry-after'), ended, close: () => abort.abort() };
}

const tokenLines = (principals: Record<string, string>): string[] =>
  Object.entries(principals).map(([principal, token]) => `        - { token: "${token}", principal: ${principal} }`);

describe('with the default limits and two principals', () => {
  const hog = 'hog-secret-0123456789';
  const fair = 'fair-secret-9876543210';
  let http: ConfiguredServer;
  const clients: Client[] = [];

  beforeAll(async () => {
    http = await serveConfig(['server:', '  http:', '    auth:', '      tokens:', ...tokenLines({ hog, fair }), 'plugins:', `  - path: ${fixture}`]);
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((client) => client.close()));
    await http?.stop();
  });

  it('one principal opening 1000 sessions gets its share (500), and the other still connects', async () => {
    const results: Opened[] = [];
    // 20 rounds of 50 concurrent initializes: the caps must hold under a burst, too.
    for (let round = 0; round < 20; round += 1) {
      results.push(...(await Promise.all(Array.from({ length: 50 }, () => openSession(http.url, hog)))));
    }
    const opened = results.filter((result) => result.status === 200 && result.sessionId);
    const refused = results.filter((result) => result.status !== 200);
    expect(opened).toHaveLength(500);
    expect(refused).toHaveLength(500);
    for (const refusal of refused) {
      expectRefused(refusal, /server\.http\.maxSessionsPerPrincipal \(500\)/);
      expect(Number(refusal.retryAfter)).toBeLessThanOrEqual(3600);
    }
    // Over legacy SSE, too, and through a real client, which shows the reason.
    const stream = await openSseStream(http.url, hog);
    expect(stream.status).toBe(503);
    expect(Number(stream.retryAfter)).toBeGreaterThanOrEqual(1);
    await expect(connectClient('http-2025', { url: http.url, headers: { authorization: `Bearer ${hog}` } })).rejects.toThrow(/maxSessionsPerPrincipal/);

    // The other principal is not starved, on either session transport.
    for (const era of ['http-2025', 'sse', 'http-2026'] as const) {
      const client = await connectClient(era, { url: http.url, headers: { authorization: `Bearer ${fair}` } });
      clients.push(client);
      const result = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Bodø' } });
      expect(result.structuredContent, era).toMatchObject({ city: 'Bodø' });
    }
    // 2026-07-28 requests open no session and are not capped.
    const modern = await connectClient('http-2026', { url: http.url, headers: { authorization: `Bearer ${hog}` } });
    clients.push(modern);
    expect((await modern.listTools()).tools.length).toBeGreaterThan(0);
    // The caps in effect are in the startup log.
    expect(http.stderr()).toMatch(/"maxSessions":1000,"maxSessionsPerPrincipal":500,"sessionIdleSeconds":3600,"msg":"listening"/);
  }, 60_000);
});

describe('with configured caps', () => {
  const tokens = { alice: 'alice-secret-0123456789', bob: 'bob-secret-0123456789', carol: 'carol-secret-0123456789' };
  let http: ConfiguredServer;
  const streams: { close: () => void }[] = [];

  beforeAll(async () => {
    http = await serveConfig([
      'server:',
      '  http:',
      '    maxSessions: 4',
      '    maxSessionsPerPrincipal: 3',
      '    auth:',
      '      tokens:',
      ...tokenLines(tokens),
      'plugins:',
      `  - path: ${fixture}`,
    ]);
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await http?.stop();
  });

  it('counts SSE streams and HTTP sessions together, per principal and in all, and names the limit hit', async () => {
    const sse = await connectClient('sse', { url: http.url, headers: { authorization: `Bearer ${tokens.alice}` } });
    try {
      expect((await openSession(http.url, tokens.alice)).status).toBe(200);
      const third = await openSession(http.url, tokens.alice);
      expect(third.status).toBe(200);

      expectRefused(await openSession(http.url, tokens.alice), /server\.http\.maxSessionsPerPrincipal \(3\)/);
      const bobs = await openSession(http.url, tokens.bob);
      expect(bobs.status).toBe(200);
      expectRefused(await openSession(http.url, tokens.carol), /server\.http\.maxSessions \(4\)/);
      const carolStream = await openSseStream(http.url, tokens.carol);
      expect(carolStream.status).toBe(503);

      // A session that ends frees its place at once.
      const closed = await fetch(`${http.url}/mcp`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${tokens.bob}`, 'mcp-session-id': bobs.sessionId!, 'mcp-protocol-version': '2025-11-25' },
      });
      expect(closed.status).toBe(200);
      const carols = await openSseStream(http.url, tokens.carol);
      streams.push(carols);
      expect(carols.status).toBe(200);
      expect((await openSession(http.url, tokens.bob)).status).toBe(503);
      expect(await useSession(http.url, tokens.alice, third.sessionId!)).toBe(200);
    } finally {
      await sse.close();
    }
  });
});

describe('with sessionIdleSeconds: 1', () => {
  const token = 'idle-secret-0123456789';
  let http: ConfiguredServer;

  beforeAll(async () => {
    http = await serveConfig([
      'server:',
      '  http:',
      '    maxSessionsPerPrincipal: 3',
      '    sessionIdleSeconds: 1',
      '    auth:',
      '      tokens:',
      ...tokenLines({ idler: token }),
      'plugins:',
      `  - path: ${fixture}`,
    ]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  it('closes sessions without a request for that long, keeps busy ones, and says when to retry', async () => {
    const busy = await openSession(http.url, token);
    const idle = await openSession(http.url, token);
    // An SSE stream that stays open but sends nothing is idle too.
    const stream = await openSseStream(http.url, token);
    try {
      expect([busy.status, idle.status, stream.status]).toEqual([200, 200, 200]);
      const refused = await openSession(http.url, token);
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBe('1');

      // Within about 2.5 s the idle ones are closed; the busy one, used every 250 ms, is kept.
      const until = Date.now() + 2_500;
      while (Date.now() < until) {
        expect(await useSession(http.url, token, busy.sessionId!)).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(await useSession(http.url, token, idle.sessionId!)).toBe(404);
      await stream.ended;
      expect((await openSession(http.url, token)).status).toBe(200);
      expect((await openSession(http.url, token)).status).toBe(200);
      expect(http.stderr()).toMatch(/closing idle session/);
    } finally {
      stream.close();
    }
  });
});
