// A small round-robin HTTP load balancer for the replica tests: each request goes to the
// next backend, streamed both ways (SSE included). A backend that refuses the connection is
// marked down and the request goes to the next one (nothing reached it); a backend that
// dies while answering gets the client a 502 that says so, as a real balancer would.
import { request as httpRequest, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RoundRobinProxy {
  /** Base URL, without /mcp. */
  readonly url: string;
  /** Which backend (by index) answered each request, in order. */
  readonly routed: number[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(backends: readonly string[]): Promise<RoundRobinProxy> {
  const down = new Set<number>();
  const routed: number[] = [];
  let next = 0;

  const pick = (): number | undefined => {
    for (let tried = 0; tried < backends.length; tried += 1) {
      const index = next % backends.length;
      next += 1;
      if (!down.has(index)) return index;
    }
    return undefined;
  };

  const fail = (res: ServerResponse, message: string): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message }, id: null }));
  };

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const index = pick();
    if (index === undefined) {
      fail(res, 'proxy: no replica is up');
      return;
    }
    const target = new URL(req.url ?? '/', backends[index]);
    const upstream = httpRequest(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host, 'content-length': String(body.length) } },
      (answer) => {
        routed.push(index);
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on('error', () => res.destroy());
        answer.on('aborted', () => res.destroy());
      },
    );
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') {
        // Nothing reached that replica: take it out and try the next one.
        down.add(index);
        forward(req, res, body);
        return;
      }
      fail(res, `proxy: replica ${index} went away while serving this request (${error.code ?? error.message})`);
    });
    res.on('close', () => upstream.destroy());
    upstream.end(body);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => forward(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
