// README promises of "HTTP security" and "HTTP auth" held against the real server (the built
// CLI on loopback), as an attacker would try them: allowedHosts (and the warning on a wildcard
// bind without it), bearer tokens on legacy /messages, the exact RFC 6750 challenge, a
// 2025-era session driven with another principal's token, `.` segments in the request target,
// the 4 MiB body limit at its edge, and JWT subjects sharing the static tokens' principals.
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.js';
import { connectClient, initializeRequest, serveConfig, startHttpServer, type ConfiguredServer, type RunningServer } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const mib4 = 4 * 1024 * 1024;
const accept = 'application/json, text/event-stream';

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

interface RawRequest {
  method?: string;
  /** Sent exactly as written (node:http does not normalise it; fetch would). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Send the body in chunks without a Content-Length. */
  chunked?: boolean;
  /** Resolve once the status line is in, and hang up (an SSE stream would never end). */
  headersOnly?: boolean;
}

/** One request with node:http to the server at `base`, with any Host header and any target. */
function raw(base: string, options: RawRequest): Promise<RawAnswer> {
  const url = new URL(base);
  const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8');
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined && !options.chunked) headers['content-length'] ??= String(body.length);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: Number(url.port), method: options.method ?? (body ? 'POST' : 'GET'), path: options.path, headers }, (res) => {
      if (options.headersOnly) {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '' });
        res.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // The server may answer (413) and stop reading before the whole body went out.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' || options.headersOnly ? undefined : reject(error)));
    if (body === undefined) req.end();
    else if (options.chunked) {
      // Several writes, so the body really goes out in chunks.
      const step = 256 * 1024;
      for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
      req.end();
    } else req.end(body);
  });
}

/** A POST of a JSON-RPC message to /mcp (or `path`) as a 2025-era client without the SDK sends it. */
const postJson = (base: string, message: unknown, headers: Record<string, string> = {}, path = '/mcp'): Promise<RawAnswer> =>
  raw(base, { path, headers: { 'content-type': 'application/json', accept, ...headers }, body: JSON.stringify(message) });

/** Opens a 2025-era session with a raw initialize; its id. */
async function openSession(base: string, headers: Record<string, string> = {}): Promise<string> {
  const opened = await postJson(base, initializeRequest, headers);
  expect(opened.status, opened.text).toBe(200);
  const session = opened.headers['mcp-session-id'];
  expect(typeof session).toBe('string');
  const initialized = await postJson(base, { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...headers, 'mcp-session-id': session as string, 'mcp-protocol-version': '2025-11-25' });
  expect(initialized.status).toBe(202);
  return session as string;
}

/** Reads an SSE stream until `pattern` matches what came so far (or the stream ends); all of it. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, seen: { text: string }, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const decoder = new TextDecoder();
  const until = Date.now() + timeoutMs;
  while (!pattern.test(seen.text)) {
    if (Date.now() > until) throw new Error(`not seen in ${timeoutMs} ms: ${String(pattern)}; got:\n${seen.text.slice(-2000)}`);
    const { value, done } = await reader.read();
    if (done) break;
    seen.text += decoder.decode(value, { stream: true });
  }
  return seen.text;
}

describe('server.http.allowedHosts (DNS-rebinding protection on a loopback bind)', () => {
  let http: ConfiguredServer;
  beforeAll(async () => {
    // The second name is written in capitals: host names are compared without regard to case.
    http = await serveConfig(['server:', '  http:', '    allowedHosts: [mcp.example.test, Docs.Example.TEST]', 'plugins:', `  - path: ${fixture}`]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  const initializeWith = (headers: Record<string, string>): Promise<RawAnswer> => postJson(http.url, initializeRequest, headers);

  it('a Host listed in allowedHosts is served, with or without a port, in any letter case; so are the loopback names', async () => {
    const port = new URL(http.url).port;
    for (const host of ['mcp.example.test', 'mcp.example.test:443', 'MCP.Example.TEST:8808', 'docs.example.test', 'Docs.Example.TEST:80', `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const answer = await initializeWith({ host });
      expect(answer.status, host).toBe(200);
      expect(answer.headers['mcp-session-id'], host).toBeTruthy();
      expect(answer.text, host).toMatch(/"protocolVersion":"2025-11-25"/);
    }
  });

  it('a Host not listed (look-alikes too) gets 403 and no session', async () => {
    for (const host of ['evil.example.test', 'evil.mcp.example.test', 'mcp.example.test.evil.test', 'mcp.example.testx:80', 'mcp.example.test@evil.test', '10.0.0.1', '0.0.0.0']) {
      const answer = await initializeWith({ host });
      expect(answer.status, host).toBe(403);
      expect(answer.headers['mcp-session-id'], host).toBeUndefined();
      expect(answer.text, host).not.toMatch(/protocolVersion/);
    }
  });

  it('an Origin listed in allowedHosts is served; another Origin gets 403, on /mcp and /sse', async () => {
    expect((await initializeWith({ origin: 'https://mcp.example.test' })).status).toBe(200);
    expect((await initializeWith({ origin: 'http://localhost:3000' })).status).toBe(200);
    for (const origin of ['https://evil.example.test', 'https://mcp.example.test.evil.test', 'null']) {
      expect((await initializeWith({ origin })).status, origin).toBe(403);
      const sse = await raw(http.url, { path: '/sse', headers: { origin }, headersOnly: true });
      expect(sse.status, `/sse ${origin}`).toBe(403);
    }
    expect((await raw(http.url, { path: '/sse', headers: { host: 'evil.example.test' }, headersOnly: true })).status).toBe(403);
  });

  it('says nothing about unchecked Host headers (it checks them)', () => {
    expect(http.stderr()).toMatch(/listening/);
    expect(http.stderr()).not.toMatch(/Host headers are not checked/);
  });
});

describe('a bind to every interface (0.0.0.0)', () => {
  const wildcardWarning = 'bound to all interfaces without server.http.allowedHosts: Host headers are not checked (DNS rebinding)';
  /** The server's URL as reachable on loopback (it says http://0.0.0.0:PORT). */
  const onLoopback = (url: string): string => {
    const parsed = new URL(url);
    expect(parsed.hostname).toBe('0.0.0.0');
    return `http://127.0.0.1:${parsed.port}`;
  };

  it('without allowedHosts: warns at start that Host headers are not checked (and indeed they are not)', async () => {
    const http: RunningServer = await startHttpServer([fixture, '--host', '0.0.0.0']);
    try {
      const base = onLoopback(http.url);
      const warned = http.stderr().split('\n').filter((line) => line.includes(wildcardWarning));
      expect(warned).toHaveLength(1);
      expect(warned[0]).toMatch(/"level":\s*(40|"warn")|WARN/i);
      // What the warning says is so: a foreign Host is served.
      expect((await postJson(base, initializeRequest, { host: 'evil.example.test' })).status).toBe(200);
    } finally {
      await http.stop();
    }
  });

  it('with allowedHosts: no warning, a listed Host is served and any other gets 403', async () => {
    const http = await serveConfig(['server:', '  http:', '    host: 0.0.0.0', '    allowedHosts: [mcp.example.test]', 'plugins:', `  - path: ${fixture}`]);
    try {
      const base = onLoopback(http.url);
      expect(http.stderr()).not.toContain('Host headers are not checked');
      expect((await postJson(base, initializeRequest, { host: 'mcp.example.test' })).status).toBe(200);
      expect((await postJson(base, initializeRequest, { host: 'evil.example.test' })).status).toBe(403);
    } finally {
      await http.stop();
    }
  });
});

describe('static bearer tokens', () => {
  const adminToken = 'admin-secret-promises-0123456789';
  const botToken = 'bot-secret-promises-9876543210';
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

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

  describe('WWW-Authenticate is exactly the RFC 6750 challenge the README shows', () => {
    const requests: [string, RawRequest][] = [
      ['POST /mcp', { path: '/mcp', headers: { 'content-type': 'application/json', accept }, body: JSON.stringify(initializeRequest) }],
      ['GET /sse', { path: '/sse', headers: { accept: 'text/event-stream' }, headersOnly: true }],
      ['POST /messages', { path: '/messages?sessionId=x', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' }],
    ];

    it.each(requests)('%s without a token: 401, Bearer realm="toolport" and no error code', async (_name, request) => {
      const answer = await raw(http.url, request);
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Bearer realm="toolport"');
    });

    it.each(requests)('%s with a wrong token: 401, realm plus error="invalid_token" and a description', async (_name, request) => {
      const answer = await raw(http.url, { ...request, headers: { ...request.headers, ...bearer('not-a-token-of-this-server') } });
      expect(answer.status).toBe(401);
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="toolport", error="invalid_token", error_description="[^"]+"$/);
      // The challenge never echoes what was presented.
      expect(answer.headers['www-authenticate']).not.toContain('not-a-token-of-this-server');
    });
  });

  it('POST /messages without Authorization: Bearer gets 401 even for a live SSE session, and the message never reaches it', async () => {
    const abort = new AbortController();
    const stream = await fetch(`${http.url}/sse`, { headers: bearer(botToken), signal: abort.signal });
    expect(stream.status).toBe(200);
    try {
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      const seen = { text: '' };
      const endpoint = /data: (\S+)/.exec(await readUntil(reader, seen, /data: (\S+)/))?.[1] ?? '';
      expect(endpoint).toMatch(/^\/messages\?sessionId=/);
      const send = (message: unknown, headers: Record<string, string>): Promise<RawAnswer> =>
        raw(http.url, { path: endpoint, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(message) });

      // An attacker who learned the stream's URL but has no token.
      for (const [id, headers] of [
        [901, {}],
        [902, { authorization: 'Bearer' }],
        [903, { authorization: `Basic ${Buffer.from(`x:${botToken}`).toString('base64')}` }],
        [904, { authorization: `Token ${botToken}` }],
        [905, bearer('guessed-token')],
      ] as [number, Record<string, string>][]) {
        const answer = await send({ jsonrpc: '2.0', id, method: 'ping' }, headers);
        expect(answer.status, JSON.stringify(headers)).toBe(401);
        expect(answer.headers['www-authenticate'], JSON.stringify(headers)).toMatch(/^Bearer realm="toolport"/);
      }
      // The owner's own request on the same stream is answered; none of the refused ones was.
      expect((await send({ jsonrpc: '2.0', id: 910, method: 'ping' }, bearer(botToken))).status).toBe(202);
      const text = await readUntil(reader, seen, /"id":910/);
      expect(text).not.toMatch(/"id":90\d/);
    } finally {
      abort.abort();
    }
  });

  it('a 2025-era Streamable HTTP session opened by one principal cannot be driven by another: 403, and the session lives on', async () => {
    const session = await openSession(http.url, bearer(botToken));
    const asBot = { ...bearer(botToken), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    const asAdmin = { ...bearer(adminToken), 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };

    // POST a request, a call of a tool the session's own token may not even see, a notification.
    for (const message of [
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'e2e__fail', arguments: {} } },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } },
    ]) {
      const answer = await postJson(http.url, message, asAdmin);
      expect(answer.status, JSON.stringify(message)).toBe(403);
      expect(answer.text).not.toMatch(/"result"/);
    }
    // Listening on its stream, or ending it.
    const listen = await raw(http.url, { path: '/mcp', headers: { ...asAdmin, accept: 'text/event-stream' }, headersOnly: true });
    expect(listen.status).toBe(403);
    const end = await raw(http.url, { method: 'DELETE', path: '/mcp', headers: asAdmin });
    expect(end.status).toBe(403);

    // The owner still drives it, and it still sees only its own tools.
    const listed = await postJson(http.url, { jsonrpc: '2.0', id: 4, method: 'tools/list' }, asBot);
    expect(listed.status).toBe(200);
    expect(listed.text).toMatch(/"name":"e2e__weather"/);
    expect(listed.text).not.toMatch(/"name":"e2e__fail"/);
    // And the owner can end it; then it is gone for everyone.
    expect((await raw(http.url, { method: 'DELETE', path: '/mcp', headers: asBot })).status).toBe(200);
    expect((await postJson(http.url, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, asBot)).status).toBe(404);
  });

  it('an admin-opened session is not open to the bot either (the check is not one-way)', async () => {
    const session = await openSession(http.url, bearer(adminToken));
    const answer = await postJson(http.url, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'e2e__fail', arguments: {} } }, {
      ...bearer(botToken),
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-11-25',
    });
    expect(answer.status).toBe(403);
    expect((await raw(http.url, { method: 'DELETE', path: '/mcp', headers: { ...bearer(adminToken), 'mcp-session-id': session } })).status).toBe(200);
  });
});

describe('request targets with "." segments', () => {
  let http: RunningServer;
  beforeAll(async () => {
    http = await startHttpServer([fixture]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  const initialize = (path: string): Promise<RawAnswer> => postJson(http.url, initializeRequest, {}, path);

  it('the plain path is served (so a refusal below is about the dots)', async () => {
    expect((await initialize('/mcp')).status).toBe(200);
    expect((await raw(http.url, { path: '/healthz' })).status).toBe(200);
  });

  it.each([
    '/./mcp',
    '/mcp/.',
    '/mcp/./',
    '/.//mcp',
    '/%2e/mcp',
    '/%2E/mcp',
    '/mcp/%2e',
    '/mcp/%2E?x=1',
    '/x/../mcp',
    '/x/%2e%2e/mcp',
    '/x/.%2E/mcp',
    '/x/%2e./mcp',
    '/mcp/..',
  ])('%s gets 400, not served as another path', async (path) => {
    const answer = await initialize(path);
    expect(answer.status).toBe(400);
    expect(answer.headers['mcp-session-id']).toBeUndefined();
    expect(answer.text).toMatch(/"code":-32600/);
    expect(answer.text).toMatch(/dot segments/);
  });

  it('also on /sse, /messages and /healthz', async () => {
    for (const path of ['/./sse', '/sse/.', '/%2e/messages?sessionId=x', '/./healthz', '/healthz/%2e']) {
      const answer = await raw(http.url, { path, headersOnly: true, ...(path.includes('messages') && { headers: { 'content-type': 'application/json' }, body: '{}' }) });
      expect(answer.status, path).toBe(400);
    }
  });
});

describe('the 4 MiB body limit, at its edge', () => {
  let http: RunningServer;
  beforeAll(async () => {
    http = await startHttpServer([fixture]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  /** A JSON-RPC message of exactly `bytes` bytes: `message` with a padding string in params._meta. */
  function sized(message: { params?: Record<string, unknown> } & Record<string, unknown>, bytes: number): Buffer {
    const shell = (pad: string): string => JSON.stringify({ ...message, params: { ...message.params, _meta: { ...(message.params?._meta as object), pad } } });
    const padding = bytes - Buffer.byteLength(shell(''));
    const body = Buffer.from(shell('x'.repeat(padding)), 'utf8');
    expect(body.length).toBe(bytes);
    return body;
  }

  const legacyList = { jsonrpc: '2.0', id: 7, method: 'tools/list', params: {} };
  const modernEnvelope = {
    [PROTOCOL_VERSION_META_KEY]: '2026-07-28',
    'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
    'io.modelcontextprotocol/clientCapabilities': {},
  };
  const modernList = { jsonrpc: '2.0', id: 8, method: 'tools/list', params: { _meta: modernEnvelope } };
  const modernHeaders = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/list' };

  const send = (body: Buffer, options: { chunked?: boolean; path?: string; headers?: Record<string, string> } = {}): Promise<RawAnswer> =>
    raw(http.url, {
      path: options.path ?? '/mcp',
      headers: { 'content-type': 'application/json', accept, ...options.headers, ...(options.chunked && { 'transfer-encoding': 'chunked' }) },
      body,
      ...(options.chunked && { chunked: true }),
    });

  it('4 MiB is 4,194,304 bytes', () => {
    expect(mib4).toBe(4_194_304);
  });

  it.each([false, true])('a body of 4 MiB + 1 byte gets 413 (chunked: %s)', async (chunked) => {
    const answer = await send(sized(legacyList, mib4 + 1), { chunked });
    expect(answer.status).toBe(413);
    expect(answer.text).toMatch(/"code":-32600/);
  });

  it('a body of 4 MiB + 1 byte to /messages gets 413 too', async () => {
    const answer = await send(sized(legacyList, mib4 + 1), { path: '/messages?sessionId=none', chunked: true });
    expect(answer.status).toBe(413);
  });

  it.each([false, true])('a valid 2025-era JSON-RPC body of exactly 4 MiB is served (chunked: %s)', async (chunked) => {
    const answer = await send(sized(legacyList, mib4), { chunked });
    expect(answer.status, answer.text.slice(0, 500)).toBe(200);
    expect(answer.text).toMatch(/"id":7/);
    expect(answer.text).toMatch(/"name":"e2e__weather"/);
  });

  it('a valid 2025-era JSON-RPC body of 4 MiB - 1 byte is served', async () => {
    const answer = await send(sized(legacyList, mib4 - 1));
    expect(answer.status, answer.text.slice(0, 500)).toBe(200);
    expect(answer.text).toMatch(/"name":"e2e__weather"/);
  });

  it('a valid 2026-07-28 JSON-RPC body of exactly 4 MiB is served; one byte more gets 413', async () => {
    const served = await send(sized(modernList, mib4), { headers: modernHeaders });
    expect(served.status, served.text.slice(0, 500)).toBe(200);
    expect(served.text).toMatch(/"name":"e2e__weather"/);
    const refused = await send(sized(modernList, mib4 + 1), { headers: modernHeaders });
    expect(refused.status).toBe(413);
  });

  it('the server still serves after refusing large bodies', async () => {
    const client = await connectClient('http-2025', { url: http.url });
    try {
      expect((await client.callTool({ name: 'e2e__weather', arguments: { city: 'Oslo' } })).structuredContent).toMatchObject({ city: 'Oslo' });
    } finally {
      await client.close();
    }
  });
});

describe('a JWT subject equal to a static token\'s principal is that principal', () => {
  const audience = 'toolport-promises';
  const opsToken = 'ops-static-promises-0123456789';
  let idp: IdentityProvider;
  let http: ConfiguredServer;
  beforeAll(async () => {
    idp = await startIdentityProvider(audience);
    http = await serveConfig(
      [
        'server:',
        '  http:',
        '    auth:',
        '      tokens: [{ token: "${OPS}", principal: ops }]',
        '      oauth:',
        '        issuer: "${ISSUER}"',
        `        audience: ${audience}`,
        '        jwksUrl: "${JWKS}"',
        'limits:',
        '  - { tool: e2e__weather, perMinute: 2 }',
        'plugins:',
        `  - path: ${fixture}`,
      ],
      { env: { OPS: opsToken, ISSUER: idp.issuer, JWKS: idp.jwksUrl } },
    );
  });
  afterAll(async () => {
    await http?.stop();
    await idp?.close();
  });

  const weather = async (authorization: string): Promise<{ isError?: boolean; text: string }> => {
    const client = await connectClient('http-2026', { url: http.url, headers: { authorization } });
    try {
      const result = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Bodø' } });
      return { ...(result.isError === true && { isError: true }), text: JSON.stringify(result.content) };
    } finally {
      await client.close();
    }
  };

  it('shares the rate-limit bucket: two calls with the static token, then the JWT of sub "ops" is refused; another subject is not', async () => {
    expect((await weather(`Bearer ${opsToken}`)).isError).toBeUndefined();
    expect((await weather(`Bearer ${opsToken}`)).isError).toBeUndefined();
    const asOpsJwt = await weather(`Bearer ${await idp.sign({ subject: 'ops' })}`);
    expect(asOpsJwt.isError).toBe(true);
    expect(asOpsJwt.text).toMatch(/rate limit reached under limits\[0\]/);
    expect((await weather(`Bearer ${await idp.sign({ subject: 'carol' })}`)).isError).toBeUndefined();
  });

  it('shares sessions: a session opened with the static token may be driven with the JWT of sub "ops", not with another subject\'s', async () => {
    const session = await openSession(http.url, { authorization: `Bearer ${opsToken}` });
    const list = (jwt: string): Promise<RawAnswer> =>
      postJson(http.url, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { authorization: `Bearer ${jwt}`, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' });
    expect((await list(await idp.sign({ subject: 'mallory' }))).status).toBe(403);
    const same = await list(await idp.sign({ subject: 'ops' }));
    expect(same.status).toBe(200);
    expect(same.text).toMatch(/"name":"e2e__weather"/);
  });
});

describe('HTTP without auth: every client is `anonymous` and shares its buckets (README, Rate limits)', () => {
  let http: ConfiguredServer;
  beforeAll(async () => {
    http = await serveConfig(['limits:', '  - { tool: e2e__weather, perMinute: 2 }', 'plugins:', `  - path: ${fixture}`]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  it('two clients (one per era) spend one bucket: the third call, from either, is refused under limits[0]', async () => {
    const modern = await connectClient('http-2026', { url: http.url });
    const legacy = await connectClient('http-2025', { url: http.url });
    try {
      const weather = (client: typeof modern) => client.callTool({ name: 'e2e__weather', arguments: { city: 'Oulu' } });
      expect((await weather(modern)).isError).toBeFalsy();
      expect((await weather(legacy)).isError).toBeFalsy();
      const third = await weather(modern);
      expect(third.isError).toBe(true);
      expect(JSON.stringify(third.content)).toContain('rate limit reached under limits[0] (tool e2e__weather: 2 per minute for each principal)');
    } finally {
      await modern.close();
      await legacy.close();
    }
  });
});
