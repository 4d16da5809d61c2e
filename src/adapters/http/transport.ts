// The HTTP side of the http kind: one keep-alive undici pool per plugin origin, the
// response body read with a byte cap, and short, safe words for network failures.
import type { Dispatcher } from 'undici';
import { Pool, request } from './undici.js';

export interface HttpTimeouts {
  readonly connectMs: number;
  readonly headersMs: number;
  readonly bodyMs: number;
}

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly signal: AbortSignal;
}

export interface HttpAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  /** The body, or `too-large` when it went past the cap (the rest was not read). */
  readonly body: Buffer | 'too-large';
}

export interface EndpointClient {
  send(request: HttpRequest): Promise<HttpAnswer>;
  close(): Promise<void>;
}

/** Most connections one plugin keeps open to its API; further calls queue. */
const maxConnections = 16;

export function createEndpointClient(origin: string, timeouts: HttpTimeouts, maxBodyBytes: number): EndpointClient {
  const pool = new Pool(origin, {
    connections: maxConnections,
    connectTimeout: timeouts.connectMs,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
  });
  let closing: Promise<void> | undefined;
  return {
    async send(call) {
      const response = await request(pool, {
        method: call.method,
        path: call.path,
        headers: call.headers,
        body: call.body,
        signal: call.signal,
      });
      const body = await readCappedBody(response, maxBodyBytes);
      const contentType = response.headers['content-type'];
      return { status: response.statusCode, contentType: Array.isArray(contentType) ? contentType[0] : contentType, body };
    },
    close() {
      // destroy, not close: in-flight calls were already aborted, and nothing may linger.
      closing ??= pool.destroy().catch(() => {});
      return closing;
    },
  };
}

/** Reads a response body up to `limit` bytes; past it, stops reading and drops the connection. */
export async function readCappedBody(response: Dispatcher.ResponseData, limit: number): Promise<Buffer | 'too-large'> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    response.body.destroy();
    return 'too-large';
  }
  // Plain events rather than an async iterator: this runs once per call, on the hot path.
  const body = response.body;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve('too-large');
        body.destroy();
        return;
      }
      chunks.push(chunk);
    });
    body.once('end', () => resolve(Buffer.concat(chunks, size)));
    body.on('error', reject);
  });
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function codeOf(error: unknown): string | undefined {
  const direct = (error as { code?: unknown } | null)?.code;
  if (typeof direct === 'string') return direct;
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  return typeof cause === 'string' ? cause : undefined;
}

/**
 * Why a request got no answer, in words safe to show the model (no headers, no bodies),
 * and whether it was one of the configured time limits.
 */
export function describeHttpFailure(error: unknown, timeouts: HttpTimeouts): { reason: string; timeout: boolean } {
  switch (codeOf(error)) {
    case 'ECONNREFUSED':
      return { reason: 'connection refused', timeout: false };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { reason: 'host not found', timeout: false };
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return { reason: 'host unreachable', timeout: false };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { reason: `no connection within ${seconds(timeouts.connectMs)}`, timeout: true };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { reason: `no answer within ${seconds(timeouts.headersMs)}`, timeout: true };
    case 'UND_ERR_BODY_TIMEOUT':
      return { reason: `the answer stalled for more than ${seconds(timeouts.bodyMs)}`, timeout: true };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return { reason: 'the connection was closed before a complete answer', timeout: false };
    case 'UND_ERR_HEADERS_OVERFLOW':
      return { reason: 'the answer\'s headers were too large', timeout: false };
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return { reason: 'the answer was shorter or longer than it said', timeout: false };
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_CLOSED':
      return { reason: 'the plugin was closed', timeout: false };
    case 'CERT_HAS_EXPIRED':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return { reason: 'its TLS certificate was not accepted', timeout: false };
    default: {
      const code = codeOf(error);
      return { reason: code ? `network error ${code}` : 'network error', timeout: false };
    }
  }
}
