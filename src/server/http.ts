// One HTTP listener for every HTTP transport: Streamable HTTP at /mcp (2026-07-28
// requests statelessly, 2025-era clients on sessions), legacy SSE at /sse + /messages,
// /healthz, and in OAuth mode the protected-resource metadata. Host/Origin checks, bearer
// tokens (static or JWT) and body limits sit in front of the MCP routes; /healthz is answered
// before them (it says only that the server is up), and the OAuth metadata needs no token
// (a client reads it to learn where to get one).
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  NodeStreamableHTTPServerTransport,
  hostHeaderValidation,
  originValidation,
  toNodeHandler,
} from '@modelcontextprotocol/node';
import {
  PROTOCOL_VERSION_META_KEY,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
  legacyStatelessFallback,
  type AuthInfo,
} from '@modelcontextprotocol/server';
import type { OAuthConfig, TokenEntry } from '../config/schema.js';
import type { Logger } from '../core/logger.js';
import { isPlainObject } from '../core/tool.js';
import type { StateHealth } from '../core/shared-state.js';
import { createAuthCheck, principalOfAuth } from './auth.js';
import type { AuthFailure } from './oauth.js';
import { sendJsonRpcError } from './json-rpc-error.js';
import { createLegacySseEndpoint } from './legacy-sse.js';
import type { ServerHub } from './mcp-server.js';
import { servePosted } from './posted-request.js';
import { createSessionTable, defaultMaxSessionsPerPrincipal, sendMisdirected, sendSessionRefusal, type SessionSlot } from './sessions.js';

export interface HttpOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  tokens: readonly TokenEntry[];
  /** OAuth resource-server mode: JWTs from this authorization server are accepted too. */
  oauth?: OAuthConfig | undefined;
  /** Shown as `resource_name` in the protected-resource metadata. */
  serverName?: string;
  /** Host names accepted besides the loopback names and the bound host. */
  allowedHosts: readonly string[];
  /** Largest request body read, in bytes. */
  maxBodyBytes?: number;
  /** Sessions (2025-era Streamable HTTP and SSE) without a request for this long are closed. Default 1 hour. */
  sessionIdleMs?: number | undefined;
  /** Sessions open at once, in all. Default 1000. */
  maxSessions?: number | undefined;
  /** Sessions one principal may hold at once. Default: a fair share of maxSessions. */
  maxSessionsPerPrincipal?: number | undefined;
  /**
   * This replica's name, when replicas share their state: it begins every 2025-era session id,
   * so a request routed to another replica than the session's is told which one holds it.
   */
  replica?: string | undefined;
  /** The shared state's health, reported by /healthz. */
  stateHealth?: (() => StateHealth) | undefined;
}

export interface HttpHandle {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

type AuthedRequest = IncomingMessage & { auth?: AuthInfo };

interface LegacySession {
  transport: NodeStreamableHTTPServerTransport;
  principal: string;
  slot: SessionSlot;
}

const loopbackNames = ['localhost', '127.0.0.1', '[::1]', '::1'];
const defaultMaxBodyBytes = 4 * 1024 * 1024;
const messagePath = '/messages';

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '[::]';
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly rpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The client went away before its request's body was read: nothing to answer, nobody to tell. */
class ClientGone extends Error {}

const tooLarge = (limit: number): BodyError => new BodyError(413, -32600, `Request body larger than ${limit} bytes`);

/**
 * The body as JSON, read with the stream's events (an async iterator over the request, with
 * its promises per chunk, cost more than the rest of reading it). Past `limit` it stops
 * listening and refuses with 413; the caller drains the rest.
 */
function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  // Closed while the request waited (for its auth, say): no event will come.
  if (req.destroyed) return Promise.reject(new ClientGone('the request closed before its body was read'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        stop();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(new BodyError(400, -32700, 'Parse error: the body is not valid JSON'));
      }
    };
    const onError = (error: Error): void => {
      stop();
      reject(new ClientGone(`the request failed before its body ended: ${error.message}`, { cause: error }));
    };
    // The client went away before the body ended.
    const onClose = (): void => {
      stop();
      reject(new ClientGone('the request closed before its body ended'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * The request as `isLegacyRequest` reads it when the parsed body is passed alongside: the
 * method and three headers (`mcp-protocol-version`, `mcp-method`, `mcp-name`). A fetch
 * Request with every header copied cost more than the classification itself.
 */
function classifiable(req: IncomingMessage): Request {
  const get = (name: string): string | null => {
    const value = req.headers[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  };
  return { method: req.method ?? 'POST', headers: { get } } as unknown as Request;
}

/** A `.` or `..` path segment, written plainly or percent-encoded. */
const dotSegment = /(?:^|\/)(?:\.|%2e){1,2}(?:\/|$)/i;

/** A Host header as a URL's `host` (lower case, default port dropped), to compare with one. */
function hostAsUrlHost(protocol: string, host: string | undefined): string | undefined {
  // A host and an optional port, nothing else (no user, no path) before it is read as a URL's.
  if (host === undefined || !/^(?:\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::\d{1,5})?$/i.test(host)) return undefined;
  try {
    return new URL(`${protocol}//${host}`).host;
  } catch {
    return undefined;
  }
}

/**
 * The request target as a URL, or why it is refused. Origin-form (`/mcp?x`) is read as a path
 * (`//host/mcp` is a path too, never a host); absolute-form (`http://host/mcp`) is taken only
 * when its host is the Host header's. A path with dot segments is refused rather than resolved:
 * a proxy in front would not have seen the path toolport would then serve.
 */
export function parseTarget(target: string, host: string | undefined): URL | string {
  const absolute = /^https?:\/\//i.test(target);
  if (!absolute && !target.startsWith('/')) return 'the request target must be a path';
  const path = (absolute ? target.replace(/^https?:\/\/[^/?#\\]*/i, '') : target).split(/[?#]/, 1)[0] ?? '';
  // URL parsing reads `\` as `/` (and would then resolve `\..\`); a proxy reads it as a character.
  if (path.includes('\\')) return 'the request path has a backslash';
  if (dotSegment.test(path)) return 'the request path has dot segments';
  let url: URL;
  try {
    url = absolute ? new URL(target) : new URL(`http://toolport.invalid${target}`);
  } catch {
    return 'the request target is not a valid URL';
  }
  if (absolute && url.host !== hostAsUrlHost(url.protocol, host)) return "the request target's host is not the Host header's";
  return url;
}

/**
 * Whether a parsed body is one the SDK's classification can only send to the 2026-07-28
 * handler: a JSON-RPC message naming a method (not `initialize`, not a response) whose params
 * carry the per-request envelope claim (the protocol version `_meta` key). `isLegacyRequest`
 * answers false for every such body, whatever else it holds, and the modern handler classifies
 * it again anyway; so a call of a 2026-07-28 client is classified once, not twice.
 */
export function claimsModernEnvelope(body: unknown): boolean {
  if (!isPlainObject(body)) return false;
  if (typeof body.method !== 'string' || body.method === 'initialize' || 'result' in body || 'error' in body) return false;
  const params = body.params;
  if (!isPlainObject(params)) return false;
  const meta = params._meta;
  return isPlainObject(meta) && PROTOCOL_VERSION_META_KEY in meta;
}

function isJsonContentType(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && /^application\/json\s*(;|$)/i.test(type);
}

export async function serveHttp(hub: ServerHub, logger: Logger, options: HttpOptions): Promise<HttpHandle> {
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes;
  const maxSessions = options.maxSessions ?? 1000;
  const limits = {
    maxSessions,
    maxSessionsPerPrincipal: options.maxSessionsPerPrincipal ?? defaultMaxSessionsPerPrincipal(maxSessions, options.tokens, options.oauth),
    idleMs: options.sessionIdleMs ?? 60 * 60 * 1000,
  };
  const auth = await createAuthCheck({ tokens: options.tokens, oauth: options.oauth, logger });
  const oauthModule = auth.oauth ? await import('./oauth.js') : undefined;

  // Host names are compared without regard to case: the SDK lowers the Host header's, so the list is lowered too.
  const allowedNames = [...loopbackNames, ...options.allowedHosts.map((name) => name.toLowerCase())];
  const boundName = options.host.toLowerCase();
  if (!isWildcard(options.host) && !allowedNames.includes(boundName)) allowedNames.push(boundName);
  // Bound to every interface with no allowed names: Host cannot be checked; say so at startup.
  const checkHost = isWildcard(options.host) && options.allowedHosts.length === 0 ? undefined : hostHeaderValidation(allowedNames);
  const checkOrigin = checkHost ? originValidation(allowedNames) : undefined;

  const reportModernError = (error: unknown): void => logger.debug({ err: error }, 'modern HTTP request error');
  const modern = createMcpHandler(hub.factory, {
    legacy: 'reject',
    maxRequestBodySize: maxBodyBytes,
    onerror: reportModernError,
  });
  const modernNode = toNodeHandler(modern);
  const statelessLegacy = legacyStatelessFallback(hub.factory, (error) => logger.debug({ err: error }, 'stateless HTTP request error'), {
    maxRequestBodySize: maxBodyBytes,
  });
  const statelessLegacyNode = toNodeHandler({ fetch: statelessLegacy });
  // Modern clients hear about tool changes through the handler's subscription bus.
  const unsubscribe = hub.onToolsChanged(() => modern.notify.toolsChanged());
  const unsubscribeSkills = hub.onSkillsChanged(() => modern.notify.resourcesChanged());

  // 2025-era Streamable HTTP sessions by id; their places (and SSE's) are in the table.
  const sessions = new Map<string, LegacySession>();
  const table = createSessionTable(limits, logger);
  const sse = createLegacySseEndpoint(hub, logger, { messagePath, sessions: table, replica: options.replica });

  const replica = options.replica;
  /** A session id this replica did not make, but another replica did: which one. */
  const ownerElsewhere = (sessionId: string): string | undefined => {
    if (replica === undefined) return undefined;
    const owner = /^([A-Za-z0-9_-]{1,64})\.[0-9a-f-]{36}$/.exec(sessionId)?.[1];
    return owner !== undefined && owner !== replica ? owner : undefined;
  };

  async function handleLegacy(req: AuthedRequest, res: ServerResponse, body: unknown): Promise<void> {
    const header = req.headers['mcp-session-id'];
    const sessionId = Array.isArray(header) ? header[0] : header;
    if (sessionId !== undefined) {
      const session = sessions.get(sessionId);
      if (!session) {
        const owner = ownerElsewhere(sessionId);
        if (owner !== undefined) {
          // Misrouted, not unknown: 2025-era sessions live on the replica that made them.
          sendMisdirected(res, sessionId, owner, replica ?? '');
          return;
        }
        sendJsonRpcError(res, 404, -32001, 'Session not found');
        return;
      }
      if (session.principal !== principalOfAuth(req.auth)) {
        sendJsonRpcError(res, 403, -32000, 'Forbidden: session belongs to another principal');
        return;
      }
      session.slot.touch();
      await session.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method === 'POST' && isInitializeRequest(body)) {
      const principal = principalOfAuth(req.auth);
      // The place is taken before anything awaits, so a burst of initializes cannot overrun the caps.
      const admission = table.admit(principal, () => transport.close());
      if (!admission.ok) {
        sendSessionRefusal(res, admission);
        return;
      }
      const { slot } = admission;
      const server = hub.createConnectionServer({ transport: 'http', principal });
      const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
        sessionIdGenerator: () => (replica === undefined ? randomUUID() : `${replica}.${randomUUID()}`),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, principal, slot });
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
          slot.release();
        },
      });
      const previous = server.onclose;
      server.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        slot.release();
        previous?.();
      };
      try {
        await server.connect(transport);
        await transport.handleRequest(req, res, body);
      } finally {
        // Refused before a session began (wrong Accept header, a failure): give the place back.
        if (transport.sessionId === undefined) await server.close().catch(() => {});
      }
      return;
    }
    // A 2025-era request with no session: serve it statelessly, as a stateless server would.
    await statelessLegacyNode(req, res, body);
  }

  async function handleMcp(req: AuthedRequest, res: ServerResponse): Promise<void> {
    if (req.method === 'POST') {
      if (!isJsonContentType(req)) {
        sendJsonRpcError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
        return;
      }
      const body = await readJsonBody(req, maxBodyBytes);
      const legacy = !claimsModernEnvelope(body) && (await isLegacyRequest(classifiable(req), body, { maxRequestBodySize: maxBodyBytes }));
      if (legacy) await handleLegacy(req, res, body);
      else await servePosted(modern, req, res, body, reportModernError);
      return;
    }
    if (req.method === 'GET' || req.method === 'DELETE') {
      if (req.headers['mcp-session-id'] !== undefined) {
        await handleLegacy(req, res, undefined);
        return;
      }
      await modernNode(req, res);
      return;
    }
    res.writeHead(405, { allow: 'GET, POST, DELETE' }).end();
  }

  /** The public URL of the MCP endpoint: configured, else as this request reached us. */
  function resourceUrl(req: IncomingMessage): string {
    if (auth.oauth?.config.resource) return auth.oauth.config.resource;
    return `http://${req.headers.host ?? `${options.host}:${String((server.address() as AddressInfo).port)}`}/mcp`;
  }

  /** 401/403 with the RFC 6750 challenge (and, in OAuth mode, where the metadata is); 503 when keys cannot be fetched. */
  function refuse(req: IncomingMessage, res: ServerResponse, failure: AuthFailure): void {
    if (failure.status === 503) {
      sendJsonRpcError(res, 503, -32000, failure.description, { 'retry-after': '5' });
      return;
    }
    const quote = (value: string): string => `"${value.replace(/["\\]/g, '')}"`;
    const parts = ['realm="toolport"'];
    if (oauthModule) parts.push(`resource_metadata=${quote(oauthModule.protectedResourceMetadataUrl(resourceUrl(req)))}`);
    if (failure.error) parts.push(`error=${quote(failure.error)}`, `error_description=${quote(failure.description)}`);
    if (failure.error === 'insufficient_scope' && auth.oauth) parts.push(`scope=${quote(auth.oauth.config.requiredScopes.join(' '))}`);
    const message = failure.status === 401 ? `Unauthorized: ${failure.description}` : `Forbidden: ${failure.description}`;
    sendJsonRpcError(res, failure.status, -32001, message, { 'www-authenticate': `Bearer ${parts.join(', ')}` });
  }

  async function route(req: AuthedRequest, res: ServerResponse): Promise<void> {
    const target = parseTarget(req.url ?? '/', req.headers.host);
    if (typeof target === 'string') {
      logger.debug({ target: req.url?.slice(0, 200) }, `refused a request target: ${target}`);
      sendJsonRpcError(res, 400, -32600, `Bad Request: ${target}`);
      return;
    }
    const url = target;
    // An absolute-form target (`POST http://host/mcp`) is served as its path, by every handler below.
    req.url = `${url.pathname}${url.search}`;
    if (replica !== undefined) res.setHeader('toolport-replica', replica);
    if (url.pathname === '/healthz' && req.method === 'GET') {
      const state = options.stateHealth?.();
      if (!state) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      // Without its shared state a replica refuses what needs it: not ready for traffic that does.
      res
        .writeHead(state.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: state.ok ? 'ok' : 'degraded', replica, state }));
      return;
    }
    if (checkHost && (!checkHost(req, res) || !checkOrigin?.(req, res))) return;
    if (oauthModule && auth.oauth && oauthModule.isProtectedResourceMetadataPath(url.pathname)) {
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      const document = oauthModule.protectedResourceMetadata(auth.oauth.config, resourceUrl(req), auth.oauth.verifier.scopes, options.serverName ?? 'toolport');
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' }).end(JSON.stringify(document));
      return;
    }
    const isMcpPath = url.pathname === '/mcp' || url.pathname === '/sse' || url.pathname === messagePath;
    if (!isMcpPath) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: MCP is served at /mcp (and legacy SSE at /sse)\n');
      return;
    }
    if (auth.required) {
      const checked = await auth.verify(req.headers.authorization);
      if (!checked.ok) {
        refuse(req, res, checked);
        return;
      }
      req.auth = checked.authInfo;
    }
    if (url.pathname === '/mcp') {
      await handleMcp(req, res);
    } else if (url.pathname === '/sse') {
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      await sse.openStream(req, res, req.auth);
    } else {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      if (!isJsonContentType(req)) {
        sendJsonRpcError(res, 415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
        return;
      }
      const body = await readJsonBody(req, maxBodyBytes);
      sse.postMessage(req, res, body, url.searchParams.get('sessionId'), url.searchParams.get('replica'));
    }
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof BodyError) {
        sendJsonRpcError(res, error.status, error.rpcCode, error.message);
        if (error.status === 413) req.resume();
        return;
      }
      if (error instanceof ClientGone) {
        logger.debug({ err: error, url: req.url }, 'client went away before its request was read');
        res.destroy();
        return;
      }
      logger.warn({ err: error, url: req.url }, 'HTTP request failed');
      if (!res.headersSent) sendJsonRpcError(res, 500, -32603, 'Internal error');
      else res.end();
    });
  });
  server.on('clientError', (error, socket) => {
    logger.debug({ err: error }, 'malformed HTTP request');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (!checkHost) logger.warn('bound to all interfaces without server.http.allowedHosts: Host headers are not checked (DNS rebinding)');
  if (!checkHost && auth.oauth && !auth.oauth.config.resource) {
    logger.warn('OAuth without server.http.auth.oauth.resource and without Host checks: the protected-resource metadata names whatever Host a request sent; set resource');
  }
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${urlHost}:${address.port}`;
  logger.info({ url: `${url}/mcp`, maxSessions: limits.maxSessions, maxSessionsPerPrincipal: limits.maxSessionsPerPrincipal, sessionIdleSeconds: limits.idleMs / 1000 }, 'listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    host: address.address,
    close() {
      closing ??= (async () => {
        unsubscribe();
        unsubscribeSkills();
        const closedListener = new Promise<void>((resolve) => server.close(() => resolve()));
        try {
          table.close();
          await Promise.allSettled([
            sse.close(),
            modern.close(),
            ...[...sessions.values()].map((session) => session.transport.close()),
          ]);
          sessions.clear();
        } finally {
          server.closeAllConnections();
          await closedListener;
        }
      })();
      return closing;
    },
  };
}

