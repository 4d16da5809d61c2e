// The admin endpoint of the approval inbox, on its own loopback listener with its own
// token: GET /approvals lists pending calls; POST /approvals/ID/approve|reject decides.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostHeaderValidation } from '@modelcontextprotocol/node';
import { ErrorCode, isToolportError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ApprovalInbox } from '../policy/inbox.js';
import { createTokenCheck } from './auth.js';

export interface AdminOptions {
  host: string;
  port: number;
  token: string;
}

export interface AdminHandle {
  readonly url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
}

export async function serveAdmin(inbox: ApprovalInbox, logger: Logger, options: AdminOptions): Promise<AdminHandle> {
  // The same constant-time bearer check as the MCP listener, with the admin token only.
  const tokens = createTokenCheck([options.token]);
  const checkHost = hostHeaderValidation(['localhost', '127.0.0.1', '[::1]', '::1', options.host]);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!checkHost(req, res)) return;
    if (!tokens.verify(req.headers.authorization)) {
      res.setHeader('www-authenticate', 'Bearer realm="toolport-admin"');
      send(res, 401, { error: 'send Authorization: Bearer <approvals.admin.token>' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    if (req.method === 'GET' && url.pathname === '/approvals') {
      send(res, 200, { pending: await inbox.list() });
      return;
    }
    const match = /^\/approvals\/([0-9a-f]{8})\/(approve|reject)$/.exec(url.pathname);
    if (req.method === 'POST' && match) {
      const id = match[1] ?? '';
      const verb = match[2] === 'approve' ? 'approve' : 'reject';
      const body = await readBody(req);
      const by = typeof body.by === 'string' && body.by.trim() !== '' ? `admin (${body.by.trim()})` : 'admin';
      const found =
        verb === 'approve'
          ? await inbox.decide(id, { approve: true, scope: body.scope === 'session' ? 'session' : 'once', by })
          : await inbox.decide(id, { approve: false, by, ...(typeof body.reason === 'string' && { reason: `rejected by ${by}: ${body.reason}` }) });
      if (!found) {
        send(res, 404, { error: `no pending approval ${id} (already decided or expired?)` });
        return;
      }
      logger.info({ approval: id, verb, by }, 'approval decided');
      send(res, 200, { id, decided: verb });
      return;
    }
    send(res, 404, { error: 'not found: GET /approvals, POST /approvals/ID/approve, POST /approvals/ID/reject' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.warn({ err: error }, 'admin request failed');
      if (res.headersSent) return;
      // The shared state is down: say so (nothing was decided), rather than "bad request".
      if (isToolportError(error) && error.code === ErrorCode.StateUnavailable) send(res, 503, { error: error.shortMessage });
      else send(res, 400, { error: 'bad request' });
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
  logger.info({ url: `${url}/approvals` }, 'approval inbox listening');
  const unsubscribe = inbox.onPending((view) =>
    logger.warn({ approval: view.id, tool: view.tool, principal: view.principal }, `call waits for approval: toolport approvals approve ${view.id}`),
  );
  let closing: Promise<void> | undefined;
  return {
    url,
    close() {
      closing ??= new Promise<void>((resolve) => {
        unsubscribe();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
