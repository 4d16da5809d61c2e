// The README's promises for OAuth mode ("HTTP auth: tokens and OAuth") that oauth.test.ts does
// not pin down, each over real HTTP: the accepted signature algorithms (configured and by
// default), `nbf` and the clock tolerance, the JWKS cache and its refetch cool-down (counted at
// a local JWKS server), the configured `resource` in the metadata, the headers of the 403 and
// 503 refusals, and a static token's auth info (a SHA-256 prefix, never the token).
import { createHash } from 'node:crypto';
import { createServer, type Server as NodeServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { McpServer } from '@modelcontextprotocol/server';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { OAuthConfig, TokenEntry } from '../../src/config/schema.js';
import { createSilentLogger } from '../../src/core/logger.js';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import type { ServerHub } from '../../src/server/mcp-server.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { connectClient, startHttpServer, type Era, type RunningServer } from '../helpers/toolport-process.js';

const kitchen = fileURLToPath(new URL('../fixtures/hooks/kitchen.mjs', import.meta.url));
const audience = 'toolport-promises';
const dir = useTempDir('toolport-oauth-promises-', 'all');

// ---------------------------------------------------------------------------------------------
// A local authorization server: a JWKS on loopback whose keys can be added while it runs, which
// counts its fetches and can be told to fail; and a signer for every algorithm the tests use.

type Alg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA' | 'ES384' | 'RS384' | 'HS256';

interface Jwks {
  readonly issuer: string;
  readonly url: string;
  readonly fetches: number;
  failing: boolean;
  /** Publishes a new key under `kid` (from then on the JWKS serves it). */
  addKey(kid: string, alg: Alg): Promise<void>;
  sign(kid: string, options?: { claims?: Record<string, unknown>; expiresAt?: number | string; scope?: string }): Promise<string>;
  close(): Promise<void>;
}

async function startJwks(): Promise<Jwks> {
  const published: JWK[] = [];
  const signers = new Map<string, { alg: Alg; key: CryptoKey | Uint8Array }>();
  const state = { fetches: 0, failing: false };
  const server: NodeServer = createServer((req, res) => {
    if (req.url !== '/jwks') {
      res.writeHead(404).end();
      return;
    }
    state.fetches += 1;
    if (state.failing) {
      res.writeHead(500).end('down');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    url: `${issuer}/jwks`,
    get fetches() {
      return state.fetches;
    },
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    async addKey(kid, alg) {
      if (alg === 'HS256') {
        // A shared secret: never published (a JWKS is for public keys), but a token can be signed.
        signers.set(kid, { alg, key: new TextEncoder().encode('a-shared-secret-of-32-bytes-or-more!') });
        return;
      }
      const pair = await generateKeyPair(alg, { extractable: true });
      published.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' });
      signers.set(kid, { alg, key: pair.privateKey });
    },
    async sign(kid, options = {}) {
      const signer = signers.get(kid);
      if (!signer) throw new Error(`no key ${kid}`);
      return new SignJWT({ ...(options.scope !== undefined && { scope: options.scope }), ...options.claims })
        .setProtectedHeader({ alg: signer.alg, kid, typ: 'at+jwt' })
        .setIssuer(issuer)
        .setAudience(audience)
        .setSubject('carol@example.com')
        .setIssuedAt()
        .setExpirationTime(options.expiresAt ?? '5m')
        .sign(signer.key);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Talking to a server: one tools/list POST to /mcp, and what came back.

interface Answer {
  status: number;
  challenge: string | null;
  retryAfter: string | null;
}

async function post(baseUrl: string, jwt: string | undefined): Promise<Answer> {
  const response = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(jwt !== undefined && { authorization: `Bearer ${jwt}` }),
    },
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
  });
  await response.text();
  return { status: response.status, challenge: response.headers.get('www-authenticate'), retryAfter: response.headers.get('retry-after') };
}

const algorithmRefused = 'error="invalid_token", error_description="The token is signed with an algorithm this server does not accept"';

/** Writes a toolport.yaml with the kitchen plugin and this `oauth` block (YAML lines) and serves it. */
async function serveKitchen(name: string, jwks: Jwks, oauthLines: readonly string[], extraAuth: readonly string[] = []): Promise<RunningServer> {
  const config = join(dir.path, `${name}.yaml`);
  await writeFile(
    config,
    [
      'server:',
      `  name: ${name}`,
      '  http:',
      '    auth:',
      ...extraAuth.map((line) => `      ${line}`),
      '      oauth:',
      `        issuer: "${jwks.issuer}"`,
      `        audience: ${audience}`,
      `        jwksUrl: "${jwks.url}"`,
      ...oauthLines.map((line) => `        ${line}`),
      'policy: { unknownSideEffects: allow }',
      'plugins:',
      `  - path: ${kitchen}`,
      `    settings: { ledger: ${JSON.stringify(join(dir.path, `${name}-ledger.txt`))} }`,
    ].join('\n'),
  );
  return startHttpServer(['--config', config]);
}

let jwks: Jwks;

beforeAll(async () => {
  jwks = await startJwks();
  for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA', 'ES384', 'RS384', 'HS256'] as const) await jwks.addKey(alg, alg);
});

afterAll(async () => {
  await jwks?.close();
});

// ---------------------------------------------------------------------------------------------

describe('oauth.algorithms', () => {
  let defaults: RunningServer;
  let narrowed: RunningServer;

  beforeAll(async () => {
    [defaults, narrowed] = await Promise.all([
      serveKitchen('algorithms-default', jwks, []),
      serveKitchen('algorithms-narrowed', jwks, ['algorithms: [RS256, ES256]']),
    ]);
  });

  afterAll(async () => {
    await Promise.all([defaults?.stop(), narrowed?.stop()]);
  });

  it('the default list is exactly RS256, PS256, ES256, EdDSA', () => {
    const config = parseConfig({ server: { http: { auth: { oauth: { issuer: jwks.issuer, audience, jwksUrl: jwks.url } } } } }, { env: {} });
    expect((config.server.http.auth.oauth as OAuthConfig).algorithms).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
  });

  it('by default, tokens signed with RS256, PS256, ES256 and EdDSA are accepted; ES384, RS384 and HS256 are refused', async () => {
    for (const alg of ['RS256', 'PS256', 'ES256', 'EdDSA'] as const) {
      expect((await post(defaults.url, await jwks.sign(alg))).status, alg).toBe(200);
    }
    for (const alg of ['ES384', 'RS384', 'HS256'] as const) {
      const answer = await post(defaults.url, await jwks.sign(alg));
      expect(answer.status, alg).toBe(401);
      expect(answer.challenge, alg).toContain(algorithmRefused);
    }
  });

  it('algorithms: [RS256, ES256] accepts those two and refuses PS256, EdDSA and ES384 (401 invalid_token)', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      expect((await post(narrowed.url, await jwks.sign(alg))).status, alg).toBe(200);
    }
    for (const alg of ['PS256', 'EdDSA', 'ES384'] as const) {
      const answer = await post(narrowed.url, await jwks.sign(alg));
      expect(answer.status, alg).toBe(401);
      expect(answer.challenge, alg).toContain(algorithmRefused);
    }
  });
});

describe('nbf and clockToleranceSeconds', () => {
  let tolerant: RunningServer;
  let strict: RunningServer;
  const now = (): number => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    [tolerant, strict] = await Promise.all([
      serveKitchen('tolerance-60', jwks, ['clockToleranceSeconds: 60']),
      serveKitchen('tolerance-0', jwks, ['clockToleranceSeconds: 0']),
    ]);
  });

  afterAll(async () => {
    await Promise.all([tolerant?.stop(), strict?.stop()]);
  });

  it('a token whose nbf is in the future beyond the tolerance is refused ("not valid yet"); within it, accepted', async () => {
    const notYet = await post(tolerant.url, await jwks.sign('ES256', { claims: { nbf: now() + 600 } }));
    expect(notYet.status).toBe(401);
    expect(notYet.challenge).toContain('error="invalid_token", error_description="The token is not valid yet"');
    expect((await post(tolerant.url, await jwks.sign('ES256', { claims: { nbf: now() + 20 } }))).status).toBe(200);
    // Without tolerance the same near-future nbf is refused: the claim is really checked.
    const strictNotYet = await post(strict.url, await jwks.sign('ES256', { claims: { nbf: now() + 20 } }));
    expect(strictNotYet.status).toBe(401);
    expect(strictNotYet.challenge).toContain('The token is not valid yet');
  });

  it('a token expired by less than the tolerance gets through; one expired by more is refused', async () => {
    const justExpired = await jwks.sign('ES256', { expiresAt: now() - 20 });
    expect((await post(tolerant.url, justExpired)).status).toBe(200);
    const strictAnswer = await post(strict.url, justExpired);
    expect(strictAnswer.status).toBe(401);
    expect(strictAnswer.challenge).toContain('error_description="The token has expired"');
    const longExpired = await post(tolerant.url, await jwks.sign('ES256', { expiresAt: now() - 120 }));
    expect(longExpired.status).toBe(401);
    expect(longExpired.challenge).toContain('error_description="The token has expired"');
  });
});

describe('protected-resource metadata with oauth.resource, and the 403 and 503 refusals', () => {
  const resource = 'https://mcp.example.com/mcp';
  const metadataUrl = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
  let scoped: RunningServer;
  let flaky: Jwks;
  let behindFlaky: RunningServer;

  beforeAll(async () => {
    flaky = await startJwks();
    await flaky.addKey('ES256', 'ES256');
    [scoped, behindFlaky] = await Promise.all([
      serveKitchen('resource-set', jwks, [`resource: ${resource}`, 'requiredScopes: [mcp]']),
      serveKitchen('jwks-down', flaky, []),
    ]);
  });

  afterAll(async () => {
    await Promise.all([scoped?.stop(), behindFlaky?.stop()]);
    await flaky?.close();
  });

  it('the metadata names oauth.resource as the resource (not http://<Host>/mcp), at both well-known URLs', async () => {
    for (const url of [`${scoped.url}/.well-known/oauth-protected-resource/mcp`, `${scoped.url}/.well-known/oauth-protected-resource`]) {
      const response = await fetch(url);
      expect(response.status, url).toBe(200);
      const document = (await response.json()) as Record<string, unknown>;
      expect(document.resource, url).toBe(resource);
      expect(document.authorization_servers).toEqual([jwks.issuer]);
    }
    // The challenges point at the metadata under the configured resource's origin.
    expect((await post(scoped.url, undefined)).challenge).toBe(`Bearer realm="toolport", resource_metadata="${metadataUrl}"`);
  });

  it('a token without a required scope: 403 whose WWW-Authenticate carries error="insufficient_scope"', async () => {
    const answer = await post(scoped.url, await jwks.sign('ES256', { scope: 'other' }));
    expect(answer.status).toBe(403);
    expect(answer.challenge).toMatch(/^Bearer realm="toolport", /);
    expect(answer.challenge).toContain(`resource_metadata="${metadataUrl}"`);
    expect(answer.challenge).toContain('error="insufficient_scope"');
    // With the scope, the same server lets the token in.
    expect((await post(scoped.url, await jwks.sign('ES256', { scope: 'mcp other' }))).status).toBe(200);
  });

  it('keys that cannot be fetched: 503 with Retry-After, and the same token is accepted once they can', async () => {
    const jwt = await flaky.sign('ES256');
    flaky.failing = true;
    try {
      const answer = await post(behindFlaky.url, jwt);
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toMatch(/^\d+$/);
      expect(flaky.fetches).toBeGreaterThan(0);
    } finally {
      flaky.failing = false;
    }
    const later = await post(behindFlaky.url, jwt);
    expect(later.status).toBe(200);
    expect(later.retryAfter).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// In-process servers (serveHttp, the same listener the CLI starts) behind a probe hub whose one
// tool answers with the auth info the request carried; the clock of this process can be moved.

function probeHub(): ServerHub {
  const make = (): McpServer => {
    const mcp = new McpServer({ name: 'probe', version: '1.0.0' }, { capabilities: {} });
    mcp.server.registerCapabilities({ tools: {} });
    mcp.server.setRequestHandler('tools/list', () => ({ tools: [{ name: 'authinfo', inputSchema: { type: 'object' } }] }));
    mcp.server.setRequestHandler('tools/call', (_request, ctx) => ({
      content: [{ type: 'text' as const, text: JSON.stringify(ctx.http?.authInfo ?? null) }],
    }));
    return mcp;
  };
  return {
    factory: () => make(),
    createConnectionServer: () => make().server,
    createStdioServer: () => Promise.resolve(make().server),
    onToolsChanged: () => () => {},
    onSkillsChanged: () => () => {},
    connectionCount: 0,
    close: () => Promise.resolve(),
  };
}

async function serveProbe(tokens: readonly TokenEntry[], oauth?: OAuthConfig): Promise<HttpHandle> {
  return serveHttp(probeHub(), createSilentLogger(), { host: '127.0.0.1', port: 0, tokens, oauth, allowedHosts: [] });
}

describe('the JWKS cache: 10 minutes, and an unknown key id refetches at most every 30 s', () => {
  let keys: Jwks;
  let http: HttpHandle;

  beforeAll(async () => {
    keys = await startJwks();
    await keys.addKey('first', 'ES256');
    const config = parseConfig({ server: { http: { auth: { oauth: { issuer: keys.issuer, audience, jwksUrl: keys.url } } } } }, { env: {} });
    http = await serveProbe([], config.server.http.auth.oauth);
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await http?.close();
    await keys?.close();
  });

  it('counts the fetches at the JWKS server while the clock moves', async () => {
    // Only Date is moved (jose reads the cache's age and the cool-down from it); timers and I/O stay real.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const start = Date.now();
    const at = (seconds: number): void => {
      vi.setSystemTime(start + seconds * 1000);
    };

    // Many requests with the same kid, one after another and at once: one fetch.
    for (let i = 0; i < 5; i += 1) expect((await post(http.url, await keys.sign('first'))).status).toBe(200);
    const together = await Promise.all(Array.from({ length: 10 }, async () => post(http.url, await keys.sign('first'))));
    expect(together.map((answer) => answer.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(keys.fetches).toBe(1);

    // A key published after the first fetch, used within 30 s of it: no refetch, refused.
    await keys.addKey('second', 'ES256');
    at(10);
    expect((await post(http.url, await keys.sign('second'))).status).toBe(401);
    expect(keys.fetches).toBe(1);

    // Past the cool-down, the unknown kid refetches once and is accepted.
    at(31);
    expect((await post(http.url, await keys.sign('second'))).status).toBe(200);
    expect(keys.fetches).toBe(2);

    // Another new key within 30 s of that refetch: no further fetch, refused.
    await keys.addKey('third', 'ES256');
    at(45);
    expect((await post(http.url, await keys.sign('third'))).status).toBe(401);
    expect((await post(http.url, await keys.sign('third'))).status).toBe(401);
    expect(keys.fetches).toBe(2);
    // The known keys keep working meanwhile, from the cache.
    expect((await post(http.url, await keys.sign('first'))).status).toBe(200);
    expect(keys.fetches).toBe(2);

    // 30 s after the last fetch it may fetch again.
    at(62);
    expect((await post(http.url, await keys.sign('third'))).status).toBe(200);
    expect(keys.fetches).toBe(3);

    // The cache lasts 10 minutes from that fetch: just before, a known kid fetches nothing; after, once.
    at(62 + 595);
    expect((await post(http.url, await keys.sign('first'))).status).toBe(200);
    expect(keys.fetches).toBe(3);
    at(62 + 605);
    expect((await post(http.url, await keys.sign('first'))).status).toBe(200);
    expect((await post(http.url, await keys.sign('second'))).status).toBe(200);
    expect(keys.fetches).toBe(4);
  });
});

describe("a static token's auth info", () => {
  const plain = 'static-plain-token-abcdefghijklmnop';
  const named = 'static-named-token-qrstuvwxyz012345';
  const prefix = (token: string): string => createHash('sha256').update(token).digest('hex').slice(0, 16);
  let http: HttpHandle;
  let kitchenServer: RunningServer;

  beforeAll(async () => {
    http = await serveProbe([plain, { token: named, principal: 'ops', tools: ['kitchen__*'] }]);
    kitchenServer = await serveKitchen('static-whoami', jwks, [], [`tokens: [{ token: "${named}", principal: ops }]`]);
  });

  afterAll(async () => {
    await http?.close();
    await kitchenServer?.stop();
  });

  it.each<Era>(['http-2025', 'http-2026', 'sse'])('holds a SHA-256 prefix of the token, never the token (%s)', async (era) => {
    for (const [token, principal] of [
      [plain, 'token-1'],
      [named, 'ops'],
    ] as const) {
      const client = await connectClient(era, { url: http.url, headers: { authorization: `Bearer ${token}` } });
      try {
        const result = await client.callTool({ name: 'authinfo', arguments: {} });
        const text = (result.content as Array<{ text: string }>)[0]!.text;
        const authInfo = JSON.parse(text) as { token: string; clientId: string; extra: { principal: string } };
        expect(authInfo).toMatchObject({ token: prefix(token), clientId: principal, extra: { principal } });
        expect(text).not.toContain(token);
        expect(text).not.toContain(token.slice(0, 12));
      } finally {
        await client.close();
      }
    }
  });

  it('a plugin tool is told the principal, never the static token', async () => {
    const client = await connectClient('http-2026', { url: kitchenServer.url, headers: { authorization: `Bearer ${named}` } });
    try {
      const who = await client.callTool({ name: 'kitchen__whoami', arguments: {} });
      expect(who.structuredContent).toMatchObject({ told: { principal: 'ops' }, envAuth: [] });
      expect(JSON.stringify(who)).not.toContain(named);
    } finally {
      await client.close();
    }
    expect(kitchenServer.stderr()).not.toContain(named);
  });
});
