// The admin listener, on its own loopback port with its own token (approvals.admin):
//  - the approval inbox API for scripts and `toolport approvals` (Authorization: Bearer):
//    GET /approvals, POST /approvals/ID/approve|reject;
//  - Prometheus metrics at GET /metrics (bearer token, or a console session);
//  - the web console at / (approvals, live calls, plugins & tools): the admin token is
//    exchanged once for an HttpOnly SameSite=Strict session cookie; every state-changing
//    request with that cookie needs its CSRF token and a same-origin Origin.
// Host headers are checked on every request, as on /mcp.
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostHeaderValidation } from '@modelcontextprotocol/node';
import { ErrorCode, isToolportError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ApprovalInbox } from '../policy/inbox.js';
import type { Toolport } from '../toolport.js';
import { createTokenCheck, principalsOfTokens } from './auth.js';
import { consoleCss, consoleJs } from './console/assets.js';
import { approvalsPage, callsPage, pluginsPage, signInPage, sseMessage, type ToolDecisions } from './console/pages.js';

export interface AdminOptions {
  host: string;
  port: number;
  token: string;
}

export interface AdminHandle {
  readonly url: string;
  close(): Promise<void>;
}

const cookieName = 'toolport_console';
const sessionTtlMs = 12 * 60 * 60 * 1000;
const maxSessions = 64;
const maxBodyBytes = 64 * 1024;

/** Headers every console response carries: nothing from elsewhere, no framing, no caching. */
const pageHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it, browsers send `Origin: null` on form posts, and the origin check needs the real one.
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(`${JSON.stringify(body)}\n`);
}

function sendHtml(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', ...pageHeaders, ...headers }).end(html);
}

function redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
  res.writeHead(303, { location, ...pageHeaders, ...headers }).end();
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON or form body (at most 64 KiB) as a flat record of its fields. */
async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const text = Buffer.concat(chunks).toString('utf8');
  if (/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) return Object.fromEntries(new URLSearchParams(text));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'the body is neither JSON nor a form');
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

const sameText = (a: string, b: string): boolean => {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
};

interface ConsoleSession {
  csrf: string;
  expires: number;
}

export async function serveAdmin(toolport: Toolport, inbox: ApprovalInbox, logger: Logger, options: AdminOptions): Promise<AdminHandle> {
  // The same constant-time bearer check as the MCP listener, with the admin token only.
  const tokens = createTokenCheck([options.token]);
  const checkHost = hostHeaderValidation(['localhost', '127.0.0.1', '[::1]', '::1', options.host]);
  const sessions = new Map<string, ConsoleSession>();
  const streams = new Set<ServerResponse>();
  const { telemetry, secrets } = toolport;

  function sessionOf(req: IncomingMessage): ConsoleSession | undefined {
    const id = cookieOf(req, cookieName);
    if (!id) return undefined;
    const session = sessions.get(id);
    if (!session) return undefined;
    if (session.expires < Date.now()) {
      sessions.delete(id);
      return undefined;
    }
    return session;
  }

  function startSession(): { id: string; session: ConsoleSession } {
    for (const [id, session] of sessions) if (session.expires < Date.now()) sessions.delete(id);
    // The oldest session goes when too many are open.
    if (sessions.size >= maxSessions) sessions.delete(sessions.keys().next().value as string);
    const id = randomBytes(32).toString('base64url');
    const session = { csrf: randomBytes(24).toString('base64url'), expires: Date.now() + sessionTtlMs };
    sessions.set(id, session);
    return { id, session };
  }

  /**
   * A state-changing request from a browser must come from a page of this listener: its
   * Origin (or, without one, Sec-Fetch-Site) says so. Cross-site forms fail here.
   */
  function sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin !== undefined) return origin === `http://${req.headers.host ?? ''}`;
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin';
  }

  const wantsHtml = (req: IncomingMessage, body: Record<string, unknown>): boolean => typeof body.csrf === 'string' || /text\/html/.test(req.headers.accept ?? '');

  async function decide(id: string, verb: 'approve' | 'reject', body: Record<string, unknown>, by: string): Promise<boolean> {
    const found =
      verb === 'approve'
        ? await inbox.decide(id, { approve: true, scope: body.scope === 'session' ? 'session' : 'once', by })
        : await inbox.decide(id, {
            approve: false,
            by,
            ...(typeof body.reason === 'string' && body.reason.trim() !== '' && { reason: `rejected by ${by}: ${body.reason.trim()}` }),
          });
    if (found) logger.info({ approval: id, verb, by }, 'approval decided');
    return found;
  }

  function toolDecisions(): ToolDecisions[] {
    const tokens = toolport.config.server.http.auth.tokens;
    const principals = ['local', ...principalsOfTokens(tokens), ...(tokens.length === 0 ? ['anonymous'] : [])];
    return toolport.registry.tools.map((tool) => ({
      tool,
      decisions: principals.map((principal) => ({ principal, decision: toolport.explain(tool.name, {}, principal).decision })),
      missingGrants: toolport.explain(tool.name, {}).missingGrants,
    }));
  }

  function openStream(req: IncomingMessage, res: ServerResponse): void {
    const live = telemetry.live;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' });
    res.write(': toolport live calls\n\n');
    for (const event of live?.recent() ?? []) res.write(sseMessage(event));
    const unsubscribe = live?.subscribe((event) => res.write(sseMessage(event)));
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    streams.add(res);
    const done = (): void => {
      clearInterval(keepAlive);
      unsubscribe?.();
      streams.delete(res);
    };
    req.once('close', done);
    res.once('close', done);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!checkHost(req, res)) return;
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    // Static assets of the console: public, no secrets in them.
    if (method === 'GET' && path === '/console.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).end(consoleCss);
      return;
    }
    if (method === 'GET' && path === '/console.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' }).end(consoleJs);
      return;
    }

    // Sign-in: the admin token for a session cookie.
    if (path === '/login') {
      if (method !== 'POST') {
        redirect(res, '/');
        return;
      }
      if (!sameOrigin(req)) {
        sendHtml(res, 403, signInPage('Refused: the sign-in did not come from this console.'));
        return;
      }
      const body = await readBody(req);
      const presented = typeof body.token === 'string' ? body.token : '';
      if (!tokens.verify(`Bearer ${presented}`)) {
        logger.warn({ remote: req.socket.remoteAddress }, 'console sign-in with a wrong token');
        sendHtml(res, 401, signInPage('That is not the admin token.'));
        return;
      }
      const { id } = startSession();
      logger.info('console session started');
      redirect(res, '/', { 'set-cookie': `${cookieName}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${sessionTtlMs / 1000}` });
      return;
    }

    const bearer = req.headers.authorization !== undefined && tokens.verify(req.headers.authorization) !== undefined;
    const session = bearer ? undefined : sessionOf(req);

    if (!bearer && !session) {
      if (method === 'GET' && (path === '/' || path === '/calls' || path === '/plugins')) {
        sendHtml(res, 200, signInPage());
        return;
      }
      res.setHeader('www-authenticate', 'Bearer realm="toolport-admin"');
      send(res, 401, { error: 'send Authorization: Bearer <approvals.admin.token>, or sign in to the console at /' });
      return;
    }

    // With the cookie, anything that changes state needs the CSRF token and a same-origin request.
    if (session && method !== 'GET' && method !== 'HEAD') {
      const body = await readBody(req);
      const csrf = typeof body.csrf === 'string' ? body.csrf : typeof req.headers['x-csrf-token'] === 'string' ? req.headers['x-csrf-token'] : '';
      if (!sameOrigin(req) || csrf === '' || !sameText(csrf, session.csrf)) {
        logger.warn({ path, origin: req.headers.origin }, 'console request refused: cross-site, or without its CSRF token');
        send(res, 403, { error: 'refused: a console request must come from the console page with its CSRF token' });
        return;
      }
      await handleSigned(req, res, method, url, body, session);
      return;
    }
    await handleSigned(req, res, method, url, method === 'POST' ? await readBody(req) : {}, session);
  }

  async function handleSigned(req: IncomingMessage, res: ServerResponse, method: string, url: URL, body: Record<string, unknown>, session: ConsoleSession | undefined): Promise<void> {
    const path = url.pathname;
    if (method === 'GET' && path === '/metrics') {
      if (!telemetry.metrics) {
        send(res, 404, { error: 'metrics are off' });
        return;
      }
      res.writeHead(200, { 'content-type': telemetry.metrics.contentType, 'cache-control': 'no-store' }).end(await telemetry.metrics.text());
      return;
    }
    if (method === 'GET' && path === '/approvals') {
      send(res, 200, { pending: await inbox.list() });
      return;
    }
    const match = /^\/approvals\/([^/]+)\/(approve|reject)$/.exec(path);
    if (method === 'POST' && match && !/^[0-9a-f]{8}$/.test(match[1] ?? '')) {
      send(res, 404, { error: `no pending approval ${JSON.stringify(decodeSegment(match[1] ?? '').slice(0, 64))}: an approval id is 8 hex digits (see GET /approvals)` });
      return;
    }
    if (method === 'POST' && match) {
      const id = match[1] ?? '';
      const verb = match[2] === 'approve' ? 'approve' : 'reject';
      const who = typeof body.by === 'string' && body.by.trim() !== '' ? body.by.trim() : session ? 'console' : undefined;
      const by = who ? `admin (${who})` : 'admin';
      const found = await decide(id, verb, body, by);
      if (session && wantsHtml(req, body)) {
        redirect(res, found ? '/' : '/?gone=1');
        return;
      }
      if (!found) {
        send(res, 404, { error: `no pending approval ${id} (already decided or expired?)` });
        return;
      }
      send(res, 200, { id, decided: verb });
      return;
    }
    if (session && method === 'POST' && path === '/logout') {
      const id = cookieOf(req, cookieName);
      if (id) sessions.delete(id);
      redirect(res, '/', { 'set-cookie': `${cookieName}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` });
      return;
    }
    if (session && method === 'GET') {
      if (path === '/') {
        const notice = url.searchParams.has('gone') ? 'That call was already decided or has expired.' : undefined;
        sendHtml(res, 200, approvalsPage(await inbox.list(), session.csrf, secrets, notice));
        return;
      }
      if (path === '/calls') {
        sendHtml(res, 200, callsPage(session.csrf));
        return;
      }
      if (path === '/plugins') {
        sendHtml(res, 200, pluginsPage(toolport.plugins, toolDecisions(), toolport.diagnostics, session.csrf));
        return;
      }
    }
    if (method === 'GET' && path === '/calls/events') {
      openStream(req, res);
      return;
    }
    const record = /^\/calls\/([^/]+)$/.exec(path);
    if (method === 'GET' && record) {
      const found = telemetry.live?.record(decodeSegment(record[1] ?? ''));
      if (!found) {
        send(res, 404, { error: 'no record of that call (still running, or too old)' });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(secrets.redact(JSON.stringify(found)));
      return;
    }
    send(res, 404, { error: 'not found: GET /approvals, POST /approvals/ID/approve, POST /approvals/ID/reject, GET /metrics; the console is at /' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!(error instanceof HttpError)) logger.warn({ err: error }, 'admin request failed');
      if (res.headersSent) return;
      // The shared state is down: say so (nothing was decided), rather than "bad request".
      if (isToolportError(error) && error.code === ErrorCode.StateUnavailable) send(res, 503, { error: error.shortMessage });
      else send(res, error instanceof HttpError ? error.status : 400, { error: error instanceof HttpError ? error.message : 'bad request' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  logger.info({ url: `${url}/approvals`, console: `${url}/` }, 'approval inbox listening');
  const unsubscribe = inbox.onPending((view) =>
    logger.warn({ approval: view.id, tool: view.tool, principal: view.principal }, `call waits for approval: toolport approvals approve ${view.id}`),
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        unsubscribe();
        for (const stream of streams) stream.end();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A path segment as text: percent-decoded, or as it came when it is not valid percent-encoding. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
