// The door from node:http to the 2026-07-28 handler for a POST whose body toolport has
// already read and parsed. The SDK's `toNodeHandler` would serialize that body again into a
// fetch Request (with its body stream) the handler never reads, since it is given the parsed
// body; and it streams every answer out chunk by chunk. Here the Request carries the headers
// only, and a JSON answer goes out whole in one write with its length.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AuthInfo, McpHttpHandler } from '@modelcontextprotocol/server';

/** Headers that describe the body the Request no longer has. */
const bodyHeaders = new Set(['content-length', 'content-encoding', 'transfer-encoding']);

/** The request's headers as `toNodeHandler` gives them (Node's merged values), less those of the body. */
function headersOf(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value === undefined || bodyHeaders.has(name) || name.startsWith(':')) continue;
    if (typeof value === 'string') headers.set(name, value);
    else for (const item of value) headers.append(name, item);
  }
  return headers;
}

/** What to stop when a socket closes: its requests still being served, however many are pipelined on it. */
const stopsBySocket = new WeakMap<Socket, Set<() => void>>();

/** Calls `stop` when `socket` closes; returns what takes that back. One listener per socket, not per request. */
function onSocketClose(socket: Socket, stop: () => void): () => void {
  let stops = stopsBySocket.get(socket);
  if (!stops) {
    const waiting = new Set<() => void>();
    stopsBySocket.set(socket, waiting);
    socket.once('close', () => {
      for (const each of waiting) each();
      waiting.clear();
    });
    stops = waiting;
  }
  stops.add(stop);
  const registered = stops;
  return () => registered.delete(stop);
}

/** The request id an error answer can echo: a request's own string or number id, else null. */
function echoableId(body: unknown): string | number | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const { id, method } = body as { id?: unknown; method?: unknown };
  return typeof method === 'string' && (typeof id === 'string' || typeof id === 'number') ? id : null;
}

const isJson = (type: string | undefined): boolean => type === 'application/json' || (type?.startsWith('application/json;') ?? false);


/** A JSON-RPC error answer that echoes the request's id, and ends the exchange. */
function answerError(res: ServerResponse, status: number, code: number, message: string, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const answer = JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: echoableId(body) });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(answer)), ...headers }).end(answer);
}

/** Serves one parsed POST through `handler` and writes its answer to `res`. */
export async function servePosted(
  handler: McpHttpHandler,
  req: IncomingMessage & { auth?: AuthInfo },
  res: ServerResponse,
  body: unknown,
  /** Told of a failure to serve the request (it is answered 500). */
  onerror: (error: unknown) => void,
): Promise<void> {
  // The call is cancelled when its client goes away: its response closes, or (a request
  // pipelined behind another, which has no response of its own yet) its socket does.
  const stopped = new AbortController();
  const stop = (): void => stopped.abort();
  const { socket } = req;
  res.once('close', stop);
  const offSocket = onSocketClose(socket, stop);
  if (res.destroyed || socket.destroyed) stop();
  const failed = (error: unknown): void => {
    try {
      onerror(error);
    } catch {
      // A reporter that throws must not change the answer.
    }
    answerError(res, 500, -32603, 'Internal server error', body);
  };
  try {
    let response: Response;
    try {
      // req.url is the router's: an absolute-form target was cut to its path and query.
      const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
        method: 'POST',
        headers: headersOf(req),
        signal: stopped.signal,
      });
      response = await handler.fetch(request, { ...(req.auth !== undefined && { authInfo: req.auth }), parsedBody: body });
    } catch (error) {
      // The handler closed (shutting down), or the request cannot be made one (a malformed Host).
      failed(error);
      return;
    }
    if (response.status === 499 && response.body === null && !stopped.signal.aborted) {
      // The handler's word for a call its server closed under it: the server is shutting down
      // while the client still waits. Tell the client so, with its request's id.
      answerError(res, 503, -32000, 'Service unavailable: the server is shutting down', body, { connection: 'close' });
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of response.headers) headers[name] = value;
    if (response.body === null || isJson(headers['content-type'])) {
      let bytes: Buffer;
      try {
        bytes = response.body === null ? Buffer.alloc(0) : Buffer.from(await response.arrayBuffer());
      } catch (error) {
        failed(error);
        return;
      }
      headers['content-length'] = String(bytes.length);
      res.writeHead(response.status, headers).end(bytes);
      return;
    }
    await streamOut(response.body, res, stopped.signal, headers, response.status);
  } finally {
    res.off('close', stop);
    offSocket();
  }
}

/**
 * A stream (server-sent events: progress, questions, then the answer) goes out as it comes,
 * waiting for the socket to drain when it is full. Stopping cancels the stream; a stream that
 * fails cuts the response off, so the client does not take it for a whole one.
 */
async function streamOut(stream: ReadableStream<Uint8Array>, res: ServerResponse, stopped: AbortSignal, headers: Record<string, string>, status: number): Promise<void> {
  res.writeHead(status, headers);
  const reader = stream.getReader();
  let drained: (() => void) | undefined;
  const release = (): void => {
    drained?.();
    drained = undefined;
  };
  const onStop = (): void => {
    release();
    reader.cancel().catch(() => {});
  };
  res.on('drain', release);
  stopped.addEventListener('abort', onStop, { once: true });
  let whole = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) whole = true;
      if (done || stopped.aborted || res.destroyed) break;
      if (!res.write(value) && !stopped.aborted) await new Promise<void>((resolve) => (drained = resolve));
    }
    res.end();
  } catch {
    res.destroy();
  } finally {
    res.off('drain', release);
    stopped.removeEventListener('abort', onStop);
    // Left before its end (the response went away): the handler's stream is not read any more.
    if (!whole) reader.cancel().catch(() => {});
  }
}
