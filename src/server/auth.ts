// Bearer tokens for the HTTP transports: static tokens from the config and, in OAuth mode,
// JWTs from an authorization server; which principal a token stands for and which tools it
// may see. The token itself never leaves this module (not to plugins, not to logs).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthInfo, ServerContext } from '@modelcontextprotocol/server';
import type { OAuthConfig, TokenEntry } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import type { AuthResult, JwtVerifier } from './oauth.js';

export interface TokenCheck {
  /** Whether requests must carry a token at all. */
  readonly required: boolean;
  /** The AuthInfo for a request's Authorization header, or undefined when it is not accepted. */
  verify(authorization: string | undefined): AuthInfo | undefined;
}

interface KnownToken {
  digest: Buffer;
  principal: string;
  tools: readonly string[] | undefined;
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** The principal a configured token stands for: the one it names, else `token-N` by its place in the list. */
function principalOfToken(entry: TokenEntry, index: number): string {
  return typeof entry === 'string' ? `token-${index + 1}` : entry.principal;
}

/** The distinct principals the configured tokens stand for. */
export function principalsOfTokens(entries: readonly TokenEntry[]): ReadonlySet<string> {
  return new Set(entries.map(principalOfToken));
}

export function createTokenCheck(entries: readonly TokenEntry[]): TokenCheck {
  const known: KnownToken[] = entries.map((entry, index) => ({
    digest: digest(typeof entry === 'string' ? entry : entry.token),
    principal: principalOfToken(entry, index),
    tools: typeof entry === 'string' ? undefined : entry.tools,
  }));
  return {
    required: known.length > 0,
    verify(authorization) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
      if (!match?.[1]) return undefined;
      const presented = digest(match[1]);
      // Compare against every token so the time taken does not depend on which matched.
      let found: KnownToken | undefined;
      for (const candidate of known) {
        if (timingSafeEqual(candidate.digest, presented)) found ??= candidate;
      }
      if (!found) return undefined;
      return {
        token: found.digest.toString('hex').slice(0, 16),
        clientId: found.principal,
        scopes: [],
        extra: { principal: found.principal, ...(found.tools && { tools: found.tools }) },
      };
    },
  };
}

export interface AuthCheck {
  /** Whether requests must carry a token at all. */
  readonly required: boolean;
  /** The OAuth verifier, when the resource-server mode is on. */
  readonly oauth: { config: OAuthConfig; verifier: JwtVerifier } | undefined;
  /** Checks a request's Authorization header: a static token first, then (OAuth mode) a JWT. */
  verify(authorization: string | undefined): Promise<AuthResult>;
}

/** Static tokens and, with `oauth`, JWTs; jose is loaded only in OAuth mode. */
export async function createAuthCheck(options: { tokens: readonly TokenEntry[]; oauth?: OAuthConfig | undefined; logger: Logger }): Promise<AuthCheck> {
  const tokens = createTokenCheck(options.tokens);
  const oauth = options.oauth
    ? { config: options.oauth, verifier: (await import('./oauth.js')).createJwtVerifier(options.oauth, options.logger) }
    : undefined;
  return {
    required: tokens.required || oauth !== undefined,
    oauth,
    async verify(authorization) {
      const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
      if (!presented) {
        const description = authorization ? 'Send the token as Authorization: Bearer <token>' : 'Authorization required: send Authorization: Bearer <token>';
        // RFC 6750 §3.1: a request without credentials gets a challenge without an error code.
        return authorization ? { ok: false, status: 401, error: 'invalid_token', description } : { ok: false, status: 401, description };
      }
      const known = tokens.verify(authorization);
      if (known) return { ok: true, authInfo: known };
      // Only something shaped like a JWT goes to the verifier (and perhaps to the JWKS URL).
      if (oauth && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(presented)) return oauth.verifier.verify(presented);
      return { ok: false, status: 401, error: 'invalid_token', description: 'The token is not valid' };
    },
  };
}

/** The principal an authenticated request stands for; `anonymous` without auth. */
export function principalOfAuth(authInfo: AuthInfo | undefined): string {
  const principal = authInfo?.extra?.principal;
  return typeof principal === 'string' ? principal : 'anonymous';
}

/** `local` on stdio, the token's principal on authenticated HTTP, `anonymous` on open HTTP. */
export function principalOf(ctx: ServerContext): string {
  return ctx.http ? principalOfAuth(ctx.http.authInfo) : 'local';
}

/** The tool globs a token is limited to, with a cache key; undefined means every tool. */
export function toolScopeOf(authInfo: AuthInfo | undefined): { key: string; patterns: readonly string[] } | undefined {
  const tools = authInfo?.extra?.tools;
  if (!Array.isArray(tools)) return undefined;
  const patterns = tools.filter((tool): tool is string => typeof tool === 'string');
  return { key: patterns.join('\u0000'), patterns };
}
