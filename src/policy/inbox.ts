// The out-of-band approval inbox: a call that needs approval from a client that cannot
// show a prompt waits here until someone approves or rejects it (admin endpoint or
// `toolport approvals`), or until the approval timeout passes, which rejects it. Pending
// calls are records in the state: with a shared state, any replica lists and decides them,
// and the answer is published so the replica holding the call wakes at once (it also looks
// for the answer at each progress tick, in case the message was lost).
import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/logger.js';
import { createMemoryState, type SharedState } from '../core/shared-state.js';
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
  /** The replica holding the call, with a shared state. */
  replica?: string;
}

export interface InboxDecision {
  approve: boolean;
  scope?: 'once' | 'session';
  reason?: string;
  /** Who decided, for the audit log. */
  by: string;
}

export interface ApprovalInbox {
  /** The calls waiting now, on every replica that shares the state, oldest first. */
  list(): Promise<PendingApprovalView[]>;
  /** Parks the call until decided, aborted or timed out. `onWaiting` ticks every few seconds. */
  wait(request: ApprovalRequest, options: { signal: AbortSignal; timeoutMs: number; onWaiting: (id: string, waitedMs: number) => void }): Promise<ApprovalAnswer>;
  /** False when no pending call has that id (decided, expired or never existed). */
  decide(id: string, decision: InboxDecision): Promise<boolean>;
  /** Listens for new pending calls of this replica (for logs and notifications). */
  onPending(listener: (view: PendingApprovalView) => void): () => void;
  /** Stops listening for answers. */
  close(): void;
}

const tickMs = 5_000;
const pendingSpace = 'approvals';
const answerSpace = 'approval-answers';
/** How long a published answer is kept for a holder that missed the message. */
const answerTtlMs = 60_000;

function toAnswer(decision: InboxDecision): ApprovalAnswer {
  return decision.approve
    ? { approved: true, channel: 'inbox', scope: decision.scope ?? 'once', approver: decision.by }
    : { approved: false, channel: 'inbox', approver: decision.by, reason: decision.reason ?? `rejected by ${decision.by}` };
}

function parseAnswer(text: string): { id: string; answer: ApprovalAnswer } | undefined {
  try {
    const parsed = JSON.parse(text) as { id?: unknown; answer?: { approved?: unknown; channel?: unknown } };
    if (typeof parsed.id !== 'string' || typeof parsed.answer?.approved !== 'boolean' || parsed.answer.channel !== 'inbox') return undefined;
    return { id: parsed.id, answer: parsed.answer as ApprovalAnswer };
  } catch {
    return undefined;
  }
}

export function createApprovalInbox(state: SharedState = createMemoryState(), options: { logger?: Logger } = {}): ApprovalInbox {
  // The calls this replica holds, by id.
  const waiting = new Map<string, (answer: ApprovalAnswer) => void>();
  const listeners = new Set<(view: PendingApprovalView) => void>();
  const deliver = (text: string): void => {
    const message = parseAnswer(text);
    if (message) waiting.get(message.id)?.(message.answer);
  };
  const unsubscribe = state.shared ? state.subscribe(answerSpace, deliver) : () => {};

  return {
    async list() {
      const views = (await state.listRecords(pendingSpace)).map((text) => JSON.parse(text) as PendingApprovalView);
      return views.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    },
    async wait(request, { signal, timeoutMs, onWaiting }) {
      if (signal.aborted) throw signal.reason as Error;
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
        ...(state.shared && { replica: state.replica }),
      };
      // Parked before the record exists, so an answer cannot arrive before anyone listens.
      let settle: (answer: ApprovalAnswer) => void = () => {};
      const answered = new Promise<ApprovalAnswer>((resolve) => (settle = resolve));
      waiting.set(id, (answer) => settle(answer));
      const forget = (): void => {
        // A call that stopped waiting leaves no record behind to approve.
        state.takeRecord(pendingSpace, id).catch((error: unknown) => options.logger?.debug({ err: error, approval: id }, 'could not remove an abandoned approval'));
      };
      try {
        await state.putRecord(pendingSpace, id, JSON.stringify(view), timeoutMs);
      } catch (error) {
        waiting.delete(id);
        throw error;
      }
      let timer: NodeJS.Timeout | undefined;
      let ticker: NodeJS.Timeout | undefined;
      let onAbort: (() => void) | undefined;
      try {
        return await new Promise<ApprovalAnswer>((resolve, reject) => {
          answered.then(resolve, reject);
          timer = setTimeout(() => {
            forget();
            resolve({
              approved: false,
              channel: 'inbox',
              reason: `nobody approved the call within ${Math.round(timeoutMs / 1000)} s (approval ${id} expired)`,
            });
          }, timeoutMs);
          ticker = setInterval(() => {
            onWaiting(id, Date.now() - created);
            if (state.shared) {
              state
                .takeRecord(answerSpace, id)
                .then((text) => text !== undefined && deliver(text))
                .catch(() => {});
            }
          }, tickMs);
          onAbort = () => {
            forget();
            reject(signal.reason as Error);
          };
          signal.addEventListener('abort', onAbort, { once: true });
          // Stopped while the record was being stored.
          if (signal.aborted) {
            onAbort();
            return;
          }
          onWaiting(id, 0);
          for (const listener of listeners) listener(view);
        });
      } finally {
        waiting.delete(id);
        clearTimeout(timer);
        clearInterval(ticker);
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    },
    async decide(id, decision) {
      // Taking the record is the decision: of two deciders (on any replicas), one wins.
      const record = await state.takeRecord(pendingSpace, id);
      if (record === undefined) return false;
      const answer = toAnswer(decision);
      const here = waiting.get(id);
      if (here) {
        here(answer);
        return true;
      }
      const message = JSON.stringify({ id, answer });
      await state.putRecord(answerSpace, id, message, answerTtlMs);
      await state.publish(answerSpace, message);
      return true;
    },
    onPending(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: unsubscribe,
  };
}
