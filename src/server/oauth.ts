// OAuth 2.1 resource-server mode: bearer JWTs verified against the issuer's JWKS (signature,
// issuer, audience, expiry) with jose, and the RFC 9728 protected-resource metadata document
// that tells MCP clients which authorization server to get a token from.
import { createHash } from 'node:crypto';
import type { AuthInfo } from '@modelcontextprotocol/server';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import type { OAuthConfig } from '../config/schema.js';
import type { Logger } from '../core/logger.js';

export type AuthFailure = {
  ok: false;
  status: 401 | 403 | 503;
  /** The RFC 6750 error code for WWW-Authenticate; absent when no credentials were sent. */
  error?: 'invalid_token' | 'insufficient_scope';
  description: string;
};
export type AuthResult = { ok: true; authInfo: AuthInfo } | AuthFailure;

export interface JwtVerifier {
  verify(token: string): Promise<AuthResult>;
  /** Every scope this server knows of (required ones and those mapped to tools). */
  readonly scopes: readonly string[];
}

const wellKnownPath = '/.well-known/oauth-protected-resource';

/** Whether a request path asks for the metadata document (at the root or for a resource path). */
export function isProtectedResourceMetadataPath(pathname: string): boolean {
  return pathname === wellKnownPath || pathname.startsWith(`${wellKnownPath}/`);
}

/** The metadata URL for a resource: the well-known path inserted before the resource's path (RFC 9728 §3.1). */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.origin}${wellKnownPath}${path}`;
}

/** The RFC 9728 document for this server. */
export function protectedResourceMetadata(config: OAuthConfig, resource: string, scopes: readonly string[], name: string): Record<string, unknown> {
  return {
    resource,
    authorization_servers: [config.issuer],
    bearer_methods_supported: ['header'],
    ...(scopes.length > 0 && { scopes_supported: [...scopes] }),
    resource_name: name,
  };
}

function scopesOf(payload: JWTPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  // Some identity providers (Azure AD) send a list under `scp`.
  const scp = payload.scp;
  if (Array.isArray(scp)) return scp.filter((scope): scope is string => typeof scope === 'string');
  if (typeof scp === 'string') return scp.split(' ').filter(Boolean);
  return [];
}

const invalid = (description: string): AuthFailure => ({ ok: false, status: 401, error: 'invalid_token', description });

/** Turns a jose error into what the client is told; key-fetch trouble is ours, not the token's. */
function toFailure(error: unknown): AuthFailure {
  if (error instanceof errors.JWTExpired) return invalid('The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return invalid(`The token has no "${error.claim}" claim`);
    if (error.claim === 'aud') return invalid('The token was not issued for this server (audience)');
    if (error.claim === 'iss') return invalid('The token was not issued by the trusted authorization server (issuer)');
    if (error.claim === 'nbf') return invalid('The token is not valid yet');
    return invalid(`The token's "${error.claim}" claim is not accepted`);
  }
  // jose reports a JWKS endpoint that did not answer 200 with JSON as a plain JOSEError.
  const keysUnavailable =
    error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || !(error instanceof errors.JOSEError) || error.code === 'ERR_JOSE_GENERIC';
  if (keysUnavailable) {
    return { ok: false, status: 503, description: 'The authorization server keys cannot be fetched right now; try again' };
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid('The token is signed with an algorithm this server does not accept');
  return invalid('The token signature cannot be verified');
}

export function createJwtVerifier(config: OAuthConfig, logger: Logger): JwtVerifier {
  const jwks = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
  const scopeTools = config.scopeTools;
  const scopes = [...new Set([...config.requiredScopes, ...Object.keys(scopeTools ?? {})])];
  return {
    scopes,
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, jwks, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: config.algorithms,
          clockTolerance: config.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        const failure = toFailure(error);
        if (failure.status === 503) logger.warn({ err: error, jwksUrl: config.jwksUrl }, 'cannot fetch the JWKS to verify a token');
        else logger.debug({ reason: failure.description }, 'bearer JWT refused');
        return failure;
      }
      const subject = payload.sub;
      if (typeof subject !== 'string' || subject.length === 0 || subject.length > 256) return invalid('The token has no usable subject');
      const granted = scopesOf(payload);
      const missing = config.requiredScopes.filter((scope) => !granted.includes(scope));
      if (missing.length > 0) {
        return { ok: false, status: 403, error: 'insufficient_scope', description: `The token lacks the scope ${missing.join(' ')}` };
      }
      // With scopeTools, a token sees only the tools of its scopes; one with none of them sees none.
      const tools = scopeTools ? [...new Set(granted.flatMap((scope) => scopeTools[scope] ?? []))] : undefined;
      const clientId = typeof payload.client_id === 'string' ? payload.client_id : typeof payload.azp === 'string' ? payload.azp : subject;
      return {
        ok: true,
        authInfo: {
          // A digest, never the token: AuthInfo travels further than this module.
          token: createHash('sha256').update(token).digest('hex').slice(0, 16),
          clientId,
          scopes: granted,
          ...(payload.exp !== undefined && { expiresAt: payload.exp }),
          extra: { principal: subject, issuer: payload.iss, ...(tools && { tools }) },
        },
      };
    },
  };
}
