// OAuth 2.1 resource-server mode against a local identity provider (a JWKS on loopback,
// JWTs signed with jose): the verifier's answers claim by claim, then end to end through
// real SDK clients over Streamable HTTP (both eras) and SSE: 401 with resource_metadata,
// the protected-resource metadata document, accepted and refused tokens, scoped tools,
// and no token in the log or in what a plugin is told.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { OAuthConfig } from '../../src/config/schema.js';
import { createSilentLogger } from '../../src/core/logger.js';
import { createAuthCheck } from '../../src/server/auth.js';
import { isProtectedResourceMetadataPath, protectedResourceMetadataUrl, type AuthResult } from '../../src/server/oauth.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { startIdentityProvider, type IdentityProvider } from '../helpers/identity-provider.js';
import { connectClient, startHttpServer, type RunningServer } from '../helpers/toolport-process.js';

const kitchen = fileURLToPath(new URL('../fixtures/hooks/kitchen.mjs', import.meta.url));
const audience = 'toolport-test';
const staticToken = 'ops-static-token-0123456789';

let idp: IdentityProvider;
const dir = useTempDir('toolport-oauth-', 'all');

beforeAll(async () => {
  idp = await startIdentityProvider(audience);
});

afterAll(async () => {
  await idp?.close();
});

function oauthConfig(extra: Record<string, unknown> = {}): OAuthConfig {
  const config = parseConfig({ server: { http: { auth: { oauth: { issuer: idp.issuer, audience, jwksUrl: idp.jwksUrl, ...extra } } } } }, { env: {} });
  return config.server.http.auth.oauth as OAuthConfig;
}

const failure = (result: AuthResult): { status: number; error?: string; description: string } => {
  if (result.ok) throw new Error('expected a refusal');
  return { status: result.status, ...(result.error !== undefined && { error: result.error }), description: result.description };
};

describe('the JWT verifier', () => {
  it('accepts a token of the issuer for this audience; the principal is the subject; the JWT goes no further', async () => {
    const check = await createAuthCheck({ tokens: [], oauth: oauthConfig(), logger: createSilentLogger() });
    const jwt = await idp.sign({ scope: 'kitchen:read extra', claims: { client_id: 'inspector' } });
    const result = await check.verify(`Bearer ${jwt}`);
    if (!result.ok) throw new Error(result.description);
    expect(result.authInfo).toMatchObject({ clientId: 'inspector', scopes: ['kitchen:read', 'extra'], extra: { principal: 'alice@example.com', issuer: idp.issuer } });
    expect(result.authInfo.expiresAt).toBeGreaterThan(Date.now() / 1000);
    expect(JSON.stringify(result.authInfo)).not.toContain(jwt.split('.')[2]);
    expect(result.authInfo.extra).not.toHaveProperty('tools');
  });

  it.each<[string, () => Promise<string>, number, RegExp]>([
    ['expired', () => idp.sign({ expiresAt: Math.floor(Date.now() / 1000) - 120 }), 401, /^The token has expired$/],
    ['for another audience', () => idp.sign({ audience: 'someone-else' }), 401, /\(audience\)$/],
    ['from another issuer', () => idp.sign({ issuer: 'https://evil.example' }), 401, /\(issuer\)$/],
    ['without a subject', () => idp.sign({ subject: undefined }), 401, /no "sub" claim/],
    ['without an audience', () => idp.sign({ audience: undefined }), 401, /audience|"aud"/],
    ['signed with a key the issuer does not publish', () => idp.sign({ rogue: true }), 401, /signature cannot be verified/],
    ['unsigned (alg none)', () => Promise.resolve(new UnsecuredJWT({ sub: 'mallory' }).setIssuer('x').setAudience(audience).setExpirationTime('5m').encode()), 401, /not valid/],
    ['not a JWT at all', () => Promise.resolve('hello'), 401, /not valid/],
  ])('refuses a token %s', async (_what, make, status, description) => {
    const check = await createAuthCheck({ tokens: [], oauth: oauthConfig(), logger: createSilentLogger() });
    const refused = failure(await check.verify(`Bearer ${await make()}`));
    expect(refused).toMatchObject({ status, error: 'invalid_token' });
    expect(refused.description).toMatch(description);
  });

  it('no Authorization header: 401 without an error code (RFC 6750)', async () => {
    const check = await createAuthCheck({ tokens: [], oauth: oauthConfig(), logger: createSilentLogger() });
    expect(failure(await check.verify(undefined))).toEqual({ status: 401, description: expect.stringMatching(/Authorization required/) as string });
  });

  it('requiredScopes: a token without them gets 403 insufficient_scope; Azure-style scp lists count', async () => {
    const check = await createAuthCheck({ tokens: [], oauth: oauthConfig({ requiredScopes: ['mcp'] }), logger: createSilentLogger() });
    expect(failure(await check.verify(`Bearer ${await idp.sign({ scope: 'other' })}`))).toMatchObject({ status: 403, error: 'insufficient_scope' });
    expect((await check.verify(`Bearer ${await idp.sign({ claims: { scp: ['mcp'] } })}`)).ok).toBe(true);
  });

  it('scopeTools: a token sees the tools of its scopes, and none without a mapped scope', async () => {
    const check = await createAuthCheck({
      tokens: [],
      oauth: oauthConfig({ scopeTools: { 'menu:read': ['kitchen__recipe'], cook: ['kitchen__*', 'guard__ping'] } }),
      logger: createSilentLogger(),
    });
    const tools = async (scope: string): Promise<unknown> => {
      const result = await check.verify(`Bearer ${await idp.sign({ scope })}`);
      return result.ok ? result.authInfo.extra?.tools : result.description;
    };
    expect(await tools('menu:read')).toEqual(['kitchen__recipe']);
    expect(await tools('menu:read cook')).toEqual(['kitchen__recipe', 'kitchen__*', 'guard__ping']);
    expect(await tools('openid')).toEqual([]);
  });

  it('static tokens still work next to OAuth, and do not touch the JWKS', async () => {
    const check = await createAuthCheck({ tokens: [{ token: staticToken, principal: 'ops' }], oauth: oauthConfig(), logger: createSilentLogger() });
    const before = idp.fetches;
    const result = await check.verify(`Bearer ${staticToken}`);
    expect(result.ok && result.authInfo.extra?.principal).toBe('ops');
    expect(failure(await check.verify('Bearer not-a-jwt')).status).toBe(401);
    expect(idp.fetches).toBe(before);
  });

  it('keys that cannot be fetched: 503, not a verdict on the token', async () => {
    const check = await createAuthCheck({ tokens: [], oauth: oauthConfig(), logger: createSilentLogger() });
    idp.failing = true;
    try {
      expect(failure(await check.verify(`Bearer ${await idp.sign()}`))).toMatchObject({ status: 503 });
    } finally {
      idp.failing = false;
    }
  });
});

describe('protected-resource metadata URLs (RFC 9728 §3.1)', () => {
  it.each([
    ['https://mcp.example.com/mcp', 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'],
    ['https://example.com/tools/toolport/mcp/', 'https://example.com/.well-known/oauth-protected-resource/tools/toolport/mcp'],
    ['https://mcp.example.com', 'https://mcp.example.com/.well-known/oauth-protected-resource'],
  ])('%s → %s', (resource, expected) => {
    expect(protectedResourceMetadataUrl(resource)).toBe(expected);
    expect(isProtectedResourceMetadataPath(new URL(expected).pathname)).toBe(true);
  });

  it('only the well-known path is the metadata path', () => {
    expect(isProtectedResourceMetadataPath('/.well-known/oauth-protected-resourcex')).toBe(false);
    expect(isProtectedResourceMetadataPath('/mcp')).toBe(false);
  });
});

describe('OAuth end to end', () => {
  let http: RunningServer;
  let logSecret: string;

  beforeAll(async () => {
    const config = join(dir.path, 'toolport.yaml');
    await writeFile(
      config,
      [
        'server:',
        '  name: kitchen-rs',
        '  http:',
        '    auth:',
        '      tokens: [{ token: "${OPS}", principal: ops }]',
        '      oauth:',
        '        issuer: "${ISSUER}"',
        `        audience: ${audience}`,
        '        jwksUrl: "${JWKS}"',
        '        scopeTools: { "menu:read": [kitchen__recipe, kitchen__whoami], cook: ["kitchen__*"] }',
        // Not about approvals: the kitchen's tools (some write its ledger) run without asking.
        'policy: { unknownSideEffects: allow }',
        'plugins:',
        `  - path: ${kitchen}`,
        `    settings: { ledger: ${JSON.stringify(join(dir.path, 'ledger.txt'))} }`,
      ].join('\n'),
    );
    http = await startHttpServer(['--config', config, '--log-level', 'debug'], { env: { OPS: staticToken, ISSUER: idp.issuer, JWKS: idp.jwksUrl } });
    logSecret = '';
  });

  afterAll(async () => {
    await http?.stop();
  });

  const metadataUrl = (): string => `${http.url}/.well-known/oauth-protected-resource/mcp`;

  it('no token: 401 whose WWW-Authenticate points at the metadata, on /mcp and /sse', async () => {
    for (const [path, init] of [
      ['/mcp', { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' }],
      ['/sse', {}],
    ] as const) {
      const response = await fetch(`${http.url}${path}`, init);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('www-authenticate'), path).toBe(`Bearer realm="toolport", resource_metadata="${metadataUrl()}"`);
    }
  });

  it('serves the protected-resource metadata (RFC 9728) at the path-aware and the root well-known URL', async () => {
    for (const url of [metadataUrl(), `${http.url}/.well-known/oauth-protected-resource`]) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        resource: `${http.url}/mcp`,
        authorization_servers: [idp.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['menu:read', 'cook'],
        resource_name: 'kitchen-rs',
      });
    }
  });

  it.each(['http-2025', 'http-2026', 'sse'] as const)('a JWT from the issuer is accepted over %s; its scopes decide the tools', async (era) => {
    const jwt = await idp.sign({ scope: 'menu:read', subject: `bob-${era}` });
    logSecret = jwt;
    const client = await connectClient(era, { url: http.url, headers: { authorization: `Bearer ${jwt}` } });
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['kitchen__recipe', 'kitchen__whoami']);
      const who = await client.callTool({ name: 'kitchen__whoami', arguments: {} });
      expect(who.structuredContent).toMatchObject({ told: { principal: `bob-${era}` }, envAuth: [] });
      // The plugin is told who calls, never with what token.
      expect(JSON.stringify(who)).not.toContain(jwt.split('.')[2]);
      await expect(client.callTool({ name: 'kitchen__order', arguments: { item: 'x' } })).rejects.toMatchObject({ code: -32602 });
    } finally {
      await client.close();
    }
    const cook = await connectClient(era, { url: http.url, headers: { authorization: `Bearer ${await idp.sign({ scope: 'cook' })}` } });
    try {
      expect(await cook.callTool({ name: 'kitchen__order', arguments: { item: 'soup' } })).toMatchObject({ content: [{ text: 'ordered soup' }] });
    } finally {
      await cook.close();
    }
  });

  it('an expired or wrong-audience JWT is refused with invalid_token, on /mcp and /sse', async () => {
    const expired = await idp.sign({ expiresAt: Math.floor(Date.now() / 1000) - 300, scope: 'cook' });
    const foreign = await idp.sign({ audience: 'another-api', scope: 'cook' });
    for (const [jwt, why] of [
      [expired, 'The token has expired'],
      [foreign, 'The token was not issued for this server (audience)'],
    ] as const) {
      const mcp = await fetch(`${http.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${jwt}` },
        body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}',
      });
      expect(mcp.status).toBe(401);
      expect(mcp.headers.get('www-authenticate')).toBe(
        `Bearer realm="toolport", resource_metadata="${metadataUrl()}", error="invalid_token", error_description="${why}"`,
      );
      const sse = await fetch(`${http.url}/sse`, { headers: { authorization: `Bearer ${jwt}` } });
      expect(sse.status).toBe(401);
      await expect(connectClient('http-2025', { url: http.url, headers: { authorization: `Bearer ${jwt}` } })).rejects.toThrow();
    }
  });

  it('the static token still works, and no token ever reaches the log', async () => {
    const client = await connectClient('http-2026', { url: http.url, headers: { authorization: `Bearer ${staticToken}` } });
    try {
      expect((await client.listTools()).tools.length).toBeGreaterThan(3);
    } finally {
      await client.close();
    }
    expect(logSecret).not.toBe('');
    expect(http.stderr()).not.toContain(logSecret.split('.')[2]);
    expect(http.stderr()).not.toContain(staticToken);
  });
});
