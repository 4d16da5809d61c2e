// The out-of-band approval inbox: a call that needs approval from a client that cannot
// show a prompt waits here until someone approves or rejects it (admin endpoint or
// `toolport approvals`), or until the approval timeout passes, which rejects it.
import { randomBytes } from 'node:crypto';
import type { ApprovalAnswer, ApprovalRequest } from './approval-types.js';

export interface PendingApprovalView {
  id: string;
  tool: string;
  plugin: string;
  kind: string;
  principal: string;
  session: string | undefined;
  client: string | undefined;
  arguments: unknown;
  permissions: readonly string[];
  because: string;
  createdAt: string;
  expiresAt: string;
}

export interface InboxDecision {
  approve: boolean;
  scope?: 'once' | 'session';
  reason?: string;
  /** Who decided, for the audit log. */
  by: string;
}

export interface ApprovalInbox {
  list(): PendingApprovalView[];
  /** Parks the call until decided, aborted or timed out. `onWaiting` ticks every few seconds. */
  wait(request: ApprovalRequest, options: { signal: AbortSignal; timeoutMs: number; onWaiting: (id: string, waitedMs: number) => void }): Promise<ApprovalAnswer>;
  /** False when no pending call has that id (decided, expired or never existed). */
  decide(id: string, decision: InboxDecision): boolean;
  /** Listens for new pending calls (for logs and notifications). */
  onPending(listener: (view: PendingApprovalView) => void): () => void;
}

interface Pending {
  view: PendingApprovalView;
  settle: (answer: ApprovalAnswer) => void;
}

const tickMs = 5_000;

export function createApprovalInbox(): ApprovalInbox {
  const pending = new Map<string, Pending>();
  const listeners = new Set<(view: PendingApprovalView) => void>();

  return {
    list: () => [...pending.values()].map((entry) => entry.view),
    wait(request, { signal, timeoutMs, onWaiting }) {
      return new Promise<ApprovalAnswer>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason as Error);
          return;
        }
        const id = randomBytes(4).toString('hex');
        const created = Date.now();
        const view: PendingApprovalView = {
          id,
          tool: request.tool,
          plugin: request.plugin,
          kind: request.kind,
          principal: request.principal,
          session: request.sessionKey,
          client: request.client,
          arguments: request.args,
          permissions: request.permissions,
          because: request.because,
          createdAt: new Date(created).toISOString(),
          expiresAt: new Date(created + timeoutMs).toISOString(),
        };
        const cleanup = (): void => {
          pending.delete(id);
          clearTimeout(timer);
          clearInterval(ticker);
          signal.removeEventListener('abort', onAbort);
        };
        const settle = (answer: ApprovalAnswer): void => {
          cleanup();
          resolve(answer);
        };
        const onAbort = (): void => {
          cleanup();
          reject(signal.reason as Error);
        };
        const timer = setTimeout(() => {
          settle({
            approved: false,
            channel: 'inbox',
            reason: `nobody approved the call within ${Math.round(timeoutMs / 1000)} s (approval ${id} expired)`,
          });
        }, timeoutMs);
        const ticker = setInterval(() => onWaiting(id, Date.now() - created), tickMs);
        signal.addEventListener('abort', onAbort, { once: true });
        pending.set(id, { view, settle });
        onWaiting(id, 0);
        for (const listener of listeners) listener(view);
      });
    },
    decide(id, decision) {
      const entry = pending.get(id);
      if (!entry) return false;
      entry.settle(
        decision.approve
          ? { approved: true, channel: 'inbox', scope: decision.scope ?? 'once', approver: decision.by }
          : { approved: false, channel: 'inbox', approver: decision.by, reason: decision.reason ?? `rejected by ${decision.by}` },
      );
      return true;
    },
    onPending(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
