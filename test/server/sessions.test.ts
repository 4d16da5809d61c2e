// The session table on its own, on a fake clock: the default fair share, which cap refuses
// first, Retry-After from the first session that would idle out, and places given back.
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createSilentLogger } from '../../src/core/logger.js';
import { createSessionTable, defaultMaxSessionsPerPrincipal, type SessionTable } from '../../src/server/sessions.js';

const oauth = parseConfig({
  server: { http: { auth: { oauth: { issuer: 'https://id.example', audience: 'toolport', jwksUrl: 'https://id.example/jwks' } } } },
}).server.http.auth.oauth;

describe('the default per-principal cap', () => {
  it('is maxSessions divided by the principals the tokens name (plus 10 with OAuth), at least 1', () => {
    expect(defaultMaxSessionsPerPrincipal(1000, [], undefined)).toBe(1000);
    expect(defaultMaxSessionsPerPrincipal(1000, ['a-token', { token: 'b-token', principal: 'bot' }], undefined)).toBe(500);
    // Two tokens for one principal count once; plain tokens are token-1, token-2, ...
    expect(defaultMaxSessionsPerPrincipal(1000, [{ token: 'x', principal: 'bot' }, { token: 'y', principal: 'bot' }, 'z'], undefined)).toBe(500);
    expect(defaultMaxSessionsPerPrincipal(1000, [], oauth)).toBe(100);
    expect(defaultMaxSessionsPerPrincipal(1000, ['a-token', 'b-token'], oauth)).toBe(83);
    expect(defaultMaxSessionsPerPrincipal(3, ['a', 'b', 'c', 'd', 'e'], undefined)).toBe(1);
  });
});

describe('the session table', () => {
  let clock = 0;
  let table: SessionTable | undefined;
  const closed: string[] = [];
  const open = (principal: string, label = principal) =>
    table!.admit(principal, () => {
      closed.push(label);
      return Promise.resolve();
    });
  afterEach(() => {
    table?.close();
    closed.length = 0;
  });

  it('refuses per principal first, then in all, naming the cap and when to retry', () => {
    clock = 0;
    table = createSessionTable({ maxSessions: 3, maxSessionsPerPrincipal: 2, idleMs: 60_000 }, createSilentLogger(), () => clock);
    expect(open('a').ok).toBe(true);
    clock = 10_000;
    expect(open('a').ok).toBe(true);
    expect(open('a')).toMatchObject({ ok: false, limit: 'server.http.maxSessionsPerPrincipal', retryAfterSeconds: 50 });
    expect(open('b').ok).toBe(true);
    clock = 20_500;
    expect(open('c')).toMatchObject({ ok: false, limit: 'server.http.maxSessions', retryAfterSeconds: 40 });
    expect(table.count()).toBe(3);
    expect(table.count('a')).toBe(2);
  });

  it('names the total when the per-principal cap is as large (one principal, no auth)', () => {
    table = createSessionTable({ maxSessions: 1, maxSessionsPerPrincipal: 1, idleMs: 60_000 }, createSilentLogger(), () => 0);
    expect(open('anonymous').ok).toBe(true);
    expect(open('anonymous')).toMatchObject({ ok: false, limit: 'server.http.maxSessions' });
  });

  it('gives a place back once, on release or when a session idles out (touch keeps it)', () => {
    clock = 0;
    table = createSessionTable({ maxSessions: 2, maxSessionsPerPrincipal: 2, idleMs: 1_000 }, createSilentLogger(), () => clock);
    const first = open('a', 'first');
    const second = open('a', 'second');
    if (!first.ok || !second.ok) throw new Error('both should be admitted');
    first.slot.release();
    first.slot.release();
    expect(table.count('a')).toBe(1);
    expect(open('a', 'third').ok).toBe(true);
    clock = 900;
    second.slot.touch();
    // At the cap, sessions past their idle time are closed before anyone is refused.
    clock = 1_500;
    expect(open('a', 'fourth').ok).toBe(true);
    expect(closed).toEqual(['third']);
    expect(table.count('a')).toBe(2);
  });
});
