// Bearer tokens for the HTTP transports: which principal a token stands for and which
// tools it may see. The token itself never leaves this module (not to plugins, not to logs).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthInfo, ServerContext } from '@modelcontextprotocol/server';
import type { TokenEntry } from '../config/schema.js';

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

export function createTokenCheck(entries: readonly TokenEntry[]): TokenCheck {
  const known: KnownToken[] = entries.map((entry, index) =>
    typeof entry === 'string'
      ? { digest: digest(entry), principal: `token-${index + 1}`, tools: undefined }
      : { digest: digest(entry.token), principal: entry.principal, tools: entry.tools },
  );
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

/** `local` on stdio, the token's principal on authenticated HTTP, `anonymous` on open HTTP. */
export function principalOf(ctx: ServerContext): string {
  const principal = ctx.http?.authInfo?.extra?.principal;
  if (typeof principal === 'string') return principal;
  return ctx.http ? 'anonymous' : 'local';
}

/** The tool globs a token is limited to, with a cache key; undefined means every tool. */
export function toolScopeOf(authInfo: AuthInfo | undefined): { key: string; patterns: readonly string[] } | undefined {
  const tools = authInfo?.extra?.tools;
  if (!Array.isArray(tools)) return undefined;
  const patterns = tools.filter((tool): tool is string => typeof tool === 'string');
  return { key: patterns.join('\u0000'), patterns };
}
