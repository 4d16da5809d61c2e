// A stand-in authorization server for tests: a loopback HTTP server publishing a JWKS, and
// a signer for JWTs with its key (or a key it does not publish). It can be told to fail.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey } from 'jose';

export interface TokenOptions {
  subject?: string | undefined;
  audience?: string | undefined;
  issuer?: string | undefined;
  /** Seconds since the epoch, or a jose time span such as '5m'. */
  expiresAt?: number | string | undefined;
  scope?: string;
  /** Sign with a key the JWKS does not publish. */
  rogue?: boolean;
  claims?: Record<string, unknown>;
}

export interface IdentityProvider {
  readonly issuer: string;
  readonly jwksUrl: string;
  /** How many times the JWKS was fetched. */
  readonly fetches: number;
  /** While true, the JWKS endpoint answers 500. */
  failing: boolean;
  sign(options?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

export async function startIdentityProvider(audience: string): Promise<IdentityProvider> {
  const good = await generateKeyPair('ES256', { extractable: true });
  const rogue = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(good.publicKey)), kid: 'key-1', alg: 'ES256', use: 'sig' };
  let fetches = 0;
  const state = { failing: false };
  const server = createServer((req, res) => {
    if (req.url === '/jwks') {
      fetches += 1;
      if (state.failing) {
        res.writeHead(500).end('down');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [publicJwk] }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    get fetches() {
      return fetches;
    },
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    async sign(options = {}) {
      const key: CryptoKey = options.rogue ? rogue.privateKey : good.privateKey;
      let jwt = new SignJWT({ ...(options.scope !== undefined && { scope: options.scope }), ...options.claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'key-1', typ: 'at+jwt' })
        .setIssuedAt()
        .setExpirationTime(options.expiresAt ?? '5m');
      if (!('issuer' in options) || options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer ?? issuer);
      if (!('audience' in options) || options.audience !== undefined) jwt = jwt.setAudience(options.audience ?? audience);
      if (!('subject' in options) || options.subject !== undefined) jwt = jwt.setSubject(options.subject ?? 'alice@example.com');
      return jwt.sign(key);
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
