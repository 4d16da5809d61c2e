// Legacy HTTP+SSE (2024-11-05): GET /sse opens a stream, POST /messages?sessionId=…
// carries requests. The wire is ./sse-transport.ts; this module keeps the sessions: their
// places in the session table, their principals, and which replica holds each.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/server';
import type { Logger } from '../core/logger.js';
import { principalOfAuth } from './auth.js';
import { sendJsonRpcError } from './json-rpc-error.js';
import type { ServerHub } from './mcp-server.js';
import { sendMisdirected, sendSessionRefusal, type SessionSlot, type SessionTable } from './sessions.js';
import { SseStreamTransport } from './sse-transport.js';

export interface LegacySseEndpoint {
  /** GET: opens the event stream and announces the message endpoint. */
  openStream(req: IncomingMessage, res: ServerResponse, authInfo: AuthInfo | undefined): Promise<void>;
  /** POST: one JSON-RPC message for an open stream. */
  postMessage(req: IncomingMessage & { auth?: AuthInfo }, res: ServerResponse, body: unknown, sessionId: string | null, owner?: string | null): void;
  readonly sessionCount: number;
  close(): Promise<void>;
}

interface SseSession {
  transport: SseStreamTransport;
  principal: string;
  slot: SessionSlot;
}

export interface LegacySseOptions {
  messagePath: string;
  /** Where each stream takes its place, shared with the other session transport. */
  sessions: SessionTable;
  /** This replica's name, with a shared state: it goes into the message URL, so a misrouted POST can say who holds the stream. */
  replica?: string | undefined;
}

export function createLegacySseEndpoint(hub: ServerHub, logger: Logger, options: LegacySseOptions): LegacySseEndpoint {
  const sessions = new Map<string, SseSession>();

  return {
    async openStream(req, res, authInfo) {
      const principal = principalOfAuth(authInfo);
      const admission = options.sessions.admit(principal, () => transport.close());
      if (!admission.ok) {
        sendSessionRefusal(res, admission);
        return;
      }
      const { slot } = admission;
      const endpoint = options.replica === undefined ? options.messagePath : `${options.messagePath}?replica=${encodeURIComponent(options.replica)}`;
      const transport = new SseStreamTransport(endpoint, res);
      sessions.set(transport.sessionId, { transport, principal, slot });
      const server = hub.createConnectionServer({ transport: 'sse', principal });
      const previous = server.onclose;
      server.onclose = () => {
        sessions.delete(transport.sessionId);
        slot.release();
        previous?.();
      };
      res.on('close', () => {
        sessions.delete(transport.sessionId);
        slot.release();
        server.close().catch(() => {});
      });
      await server.connect(transport);
      logger.debug({ session: transport.sessionId }, 'SSE session opened');
    },
    postMessage(req, res, body, sessionId, owner) {
      const session = sessionId ? sessions.get(sessionId) : undefined;
      if (!session && sessionId && owner && options.replica !== undefined && owner !== options.replica) {
        sendMisdirected(res, sessionId, owner, options.replica);
        return;
      }
      if (!session) {
        sendJsonRpcError(res, 404, -32001, 'Session not found');
        return;
      }
      // A session opened by one principal cannot be driven by another.
      if (session.principal !== principalOfAuth(req.auth)) {
        sendJsonRpcError(res, 403, -32000, 'Forbidden: session belongs to another principal');
        return;
      }
      session.slot.touch();
      session.transport.handlePost(req, res, body);
    },
    get sessionCount() {
      return sessions.size;
    },
    async close() {
      const closing = [...sessions.values()].map((session) => session.transport.close().catch(() => {}));
      sessions.clear();
      await Promise.all(closing);
    },
  };
}
