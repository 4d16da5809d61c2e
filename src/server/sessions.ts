// The open sessions of the long-lived HTTP transports (2025-era Streamable HTTP and legacy
// SSE) in one table: a cap in all and one per principal, idle closing, and the 503 that
// names the cap that was hit and says when a place may free up.
import type { ServerResponse } from 'node:http';
import type { OAuthConfig, TokenEntry } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import { principalsOfTokens } from './auth.js';
import { sendJsonRpcError } from './json-rpc-error.js';

export interface SessionLimits {
  /** Sessions open at once, in all (`server.http.maxSessions`). */
  maxSessions: number;
  /** Sessions one principal may hold at once (`server.http.maxSessionsPerPrincipal`). */
  maxSessionsPerPrincipal: number;
  /** A session without a request for this long is closed (`server.http.sessionIdleSeconds`). */
  idleMs: number;
}

/** One admitted session's place in the table. */
export interface SessionSlot {
  /** The session served a request: its idle clock starts again. */
  touch(): void;
  /** The session ended: its place is free. Idempotent. */
  release(): void;
}

export interface SessionRefusal {
  /** The config key of the cap that was hit. */
  readonly limit: 'server.http.maxSessions' | 'server.http.maxSessionsPerPrincipal';
  readonly message: string;
  /** When the first place this request could use frees up by idling out, in whole seconds (at least 1). */
  readonly retryAfterSeconds: number;
}

export type SessionAdmission = { readonly ok: true; readonly slot: SessionSlot } | ({ readonly ok: false } & SessionRefusal);

export interface SessionTable {
  /**
   * Takes a place for a new session of `principal`, or says which cap refuses it. `close`
   * ends the session when it idles out (its place is released before `close` runs).
   */
  admit(principal: string, close: () => Promise<void>): SessionAdmission;
  /** Sessions open now, in all or of one principal. */
  count(principal?: string): number;
  /** Stops the idle sweep (each transport closes its own sessions). */
  close(): void;
}

/** Principals that share the sessions when the config does not say: at least this many in OAuth mode. */
export const assumedOAuthPrincipals = 10;

/**
 * The default per-principal cap, a fair share of `maxSessions`: divided by the number of
 * principals the static tokens name (plus 10 in OAuth mode, whose subjects are not known
 * in advance); without auth the one principal (`anonymous`) may use them all.
 */
export function defaultMaxSessionsPerPrincipal(maxSessions: number, tokens: readonly TokenEntry[], oauth: OAuthConfig | undefined): number {
  const principals = principalsOfTokens(tokens).size + (oauth ? assumedOAuthPrincipals : 0);
  return Math.max(1, Math.floor(maxSessions / Math.max(1, principals)));
}

interface Entry {
  readonly principal: string;
  lastSeen: number;
  readonly close: () => Promise<void>;
}

export function createSessionTable(limits: SessionLimits, logger: Logger, now: () => number = Date.now): SessionTable {
  const entries = new Set<Entry>();
  const perPrincipal = new Map<string, number>();
  const warned = new Map<string, number>();

  const release = (entry: Entry): boolean => {
    if (!entries.delete(entry)) return false;
    const held = (perPrincipal.get(entry.principal) ?? 1) - 1;
    if (held > 0) perPrincipal.set(entry.principal, held);
    else perPrincipal.delete(entry.principal);
    return true;
  };

  const sweep = (): void => {
    const time = now();
    for (const [principal, at] of warned) if (time - at >= 60_000) warned.delete(principal);
    for (const entry of entries) {
      if (time - entry.lastSeen < limits.idleMs) continue;
      release(entry);
      logger.info({ principal: entry.principal, idleSeconds: Math.round((time - entry.lastSeen) / 1000) }, 'closing idle session');
      entry.close().catch((error: unknown) => logger.debug({ err: error }, 'closing an idle session failed'));
    }
  };
  // Often enough that a session lives at most about half its idle time longer than it may.
  const timer = setInterval(sweep, Math.max(250, Math.min(60_000, limits.idleMs / 2)));
  timer.unref();

  /** Seconds until the first of these sessions would idle out. */
  const retryAfter = (principal?: string): number => {
    let earliest = Infinity;
    for (const entry of entries) if (principal === undefined || entry.principal === principal) earliest = Math.min(earliest, entry.lastSeen);
    const wait = earliest === Infinity ? 1_000 : earliest + limits.idleMs - now();
    return Math.max(1, Math.ceil(wait / 1000));
  };

  const refusal = (principal: string): SessionRefusal | undefined => {
    // A per-principal cap as large as the total is not what stops anyone: name the total then.
    const perPrincipalBinds = limits.maxSessionsPerPrincipal < limits.maxSessions;
    if (perPrincipalBinds && (perPrincipal.get(principal) ?? 0) >= limits.maxSessionsPerPrincipal) {
      return {
        limit: 'server.http.maxSessionsPerPrincipal',
        message: `Too many open sessions for this principal: server.http.maxSessionsPerPrincipal (${limits.maxSessionsPerPrincipal}) reached; close one (DELETE it) or retry later`,
        retryAfterSeconds: retryAfter(principal),
      };
    }
    if (entries.size >= limits.maxSessions) {
      return {
        limit: 'server.http.maxSessions',
        message: `Too many open sessions: server.http.maxSessions (${limits.maxSessions}) reached; retry later`,
        retryAfterSeconds: retryAfter(),
      };
    }
    return undefined;
  };

  return {
    admit(principal, close) {
      // Sessions past their idle time give up their place before anyone is refused.
      if (refusal(principal)) sweep();
      const refused = refusal(principal);
      if (refused) {
        // A client retrying in a loop gets one warning a minute, not one per request.
        const time = now();
        const quiet = time - (warned.get(principal) ?? -Infinity) < 60_000;
        if (!quiet) warned.set(principal, time);
        logger[quiet ? 'debug' : 'warn']({ principal, limit: refused.limit, open: entries.size }, 'session refused');
        return { ok: false, ...refused };
      }
      const entry: Entry = { principal, lastSeen: now(), close };
      entries.add(entry);
      perPrincipal.set(principal, (perPrincipal.get(principal) ?? 0) + 1);
      return {
        ok: true,
        slot: {
          touch: () => {
            entry.lastSeen = now();
          },
          release: () => {
            release(entry);
          },
        },
      };
    },
    count(principal) {
      return principal === undefined ? entries.size : (perPrincipal.get(principal) ?? 0);
    },
    close() {
      clearInterval(timer);
    },
  };
}

/** Answers a refused session with 503, the cap's name and Retry-After. */
export function sendSessionRefusal(res: ServerResponse, refusal: SessionRefusal): void {
  sendJsonRpcError(res, 503, -32000, refusal.message, { 'retry-after': String(refusal.retryAfterSeconds) }, { limit: refusal.limit });
}

/** Answers a request for a session another replica holds (`421`), naming both replicas. */
export function sendMisdirected(res: ServerResponse, sessionId: string, owner: string, replica: string): void {
  sendJsonRpcError(
    res,
    421,
    -32001,
    `Misdirected request: session ${sessionId} is held by replica ${owner}, and this is replica ${replica}; route every request of a session to the replica that created it (sticky sessions on the Mcp-Session-Id header, or by client address for SSE), or use the 2026-07-28 protocol, which needs no session`,
  );
}
