// The wire of legacy HTTP+SSE (2024-11-05): one event stream per session carries every
// message from the server (`event: message`), and each message from the client arrives as
// its own POST, answered 202 once handed over. The SDK's frozen SSEServerTransport does the
// same, but builds a fetch Request and a Headers object for every POST and parses its
// content type again; here the body comes parsed and checked by the HTTP server, and the
// headers handlers may read are made only when one reads them.
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type AuthInfo,
  type JSONRPCMessage,
  type Transport,
} from '@modelcontextprotocol/server';
import { sendJsonRpcError } from './json-rpc-error.js';
import { serializeForWire } from './serialize.js';

const isMessage = (value: unknown): value is JSONRPCMessage =>
  isJSONRPCRequest(value) || isJSONRPCNotification(value) || isJSONRPCResultResponse(value) || isJSONRPCErrorResponse(value);

/**
 * What a handler sees of the POST as `ctx.http.req`: its URL, method and headers. Only
 * these are read (telemetry takes the trace context from the headers); the Headers object
 * is made the first time someone asks.
 */
class PostedRequest {
  #headers: Headers | undefined;
  constructor(
    readonly url: string,
    readonly method: string,
    private readonly raw: IncomingHttpHeaders,
  ) {}

  get headers(): Headers {
    if (this.#headers) return this.#headers;
    const headers = new Headers();
    for (const [name, value] of Object.entries(this.raw)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) for (const each of value) headers.append(name, each);
    }
    this.#headers = headers;
    return headers;
  }
}

export class SseStreamTransport implements Transport {
  readonly sessionId = randomUUID();
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  #stream: ServerResponse | undefined;
  #closed = false;

  /**
   * @param endpoint where the client posts its messages (the session id is added to it)
   * @param response the GET /sse response that becomes the event stream
   */
  constructor(
    private readonly endpoint: string,
    private readonly response: ServerResponse,
  ) {}

  start(): Promise<void> {
    if (this.#stream) return Promise.reject(new Error('the SSE stream is already started'));
    const res = this.response;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive' });
    const separator = this.endpoint.includes('?') ? '&' : '?';
    res.write(`event: endpoint\ndata: ${this.endpoint}${separator}sessionId=${this.sessionId}\n\n`);
    this.#stream = res;
    res.on('close', () => this.#ended());
    return Promise.resolve();
  }

  /**
   * One client message, already parsed from a POST's JSON body. Answers the POST: 202 once
   * the message is handed to the server (its answer goes down the stream), 400 when the
   * body is not one JSON-RPC message, 410 when the stream is gone.
   */
  handlePost(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown): void {
    if (!this.#stream) {
      sendJsonRpcError(res, 410, -32000, 'The SSE stream of this session has ended');
      return;
    }
    if (!isMessage(body)) {
      sendJsonRpcError(res, 400, -32600, 'Invalid Request: the body is not one JSON-RPC message');
      this.onerror?.(new Error('an SSE POST body that is not one JSON-RPC message'));
      return;
    }
    const request = new PostedRequest(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, req.method ?? 'POST', req.headers);
    this.onmessage?.(body, { request: request as unknown as Request, ...(req.auth !== undefined && { authInfo: req.auth }) });
    res.writeHead(202).end('Accepted');
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (!this.#stream) return Promise.reject(new Error('the SSE stream is closed'));
    this.#stream.write(serializeForWire(message, 'event: message\ndata: ', '\n\n'));
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#stream?.end();
    this.#ended();
    return Promise.resolve();
  }

  #ended(): void {
    this.#stream = undefined;
    if (this.#closed) return;
    this.#closed = true;
    this.onclose?.();
  }
}
