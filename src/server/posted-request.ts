// The door from node:http to the 2026-07-28 handler for a POST whose body toolport has
// already read and parsed. The SDK's `toNodeHandler` would serialize that body again into a
// fetch Request (with its body stream) the handler never reads, since it is given the parsed
// body; and it streams every answer out chunk by chunk. Here the Request carries the headers
// only, and a JSON answer goes out whole in one write with its length.
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** Serves one parsed POST through `handler` and writes its answer to `res`. */
export async function servePosted(handler: McpHttpHandler, req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown): Promise<void> {
  const stopped = new AbortController();
  let finished = false;
  res.once('close', () => {
    if (!finished) stopped.abort();
  });
  const request = new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method: 'POST',
    headers: headersOf(req),
    signal: stopped.signal,
  });
  const response = await handler.fetch(request, { ...(req.auth !== undefined && { authInfo: req.auth }), parsedBody: body });
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  if (response.body === null || headers['content-type']?.startsWith('application/json')) {
    const text = response.body === null ? '' : await response.text();
    finished = true;
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(response.status, headers).end(text);
    return;
  }
  // A stream (server-sent events: progress, questions, then the answer) goes out as it comes.
  res.writeHead(response.status, headers);
  let drained: (() => void) | undefined;
  const release = (): void => {
    drained?.();
    drained = undefined;
  };
  res.on('drain', release);
  stopped.signal.addEventListener('abort', release, { once: true });
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (stopped.signal.aborted) break;
      if (!res.write(chunk)) await new Promise<void>((resolve) => (drained = resolve));
    }
  } catch {
    // The client went away mid-stream, or the handler's stream failed: end what was sent.
  }
  finished = true;
  res.end();
}
