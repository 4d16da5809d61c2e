// The admin listener of a running server: where it listens (from its log line), and
// waiting for a call to reach its approval inbox.
import type { RunningServer } from './toolport-process.js';

/** The admin listener's base URL, as the server logged it. */
export function adminUrlOf(server: RunningServer): string {
  const match = /"url":"(http:\/\/[^"]+)\/approvals"/.exec(server.stderr());
  if (!match?.[1]) throw new Error('the admin endpoint did not log its address');
  return match[1];
}

/** Polls GET /approvals until a call waits (other than those in `except`); returns its id. */
export async function waitForPending(adminUrl: string, token: string, except: readonly string[] = []): Promise<string> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const response = await fetch(`${adminUrl}/approvals`, { headers: { authorization: `Bearer ${token}` } });
    const { pending } = (await response.json()) as { pending: { id: string }[] };
    const found = pending.find((entry) => !except.includes(entry.id));
    if (found) return found.id;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the call never reached the inbox');
}

/** Decides a pending approval over the bearer API. */
export async function decideApproval(adminUrl: string, token: string, id: string, verb: 'approve' | 'reject', body: Record<string, unknown> = {}): Promise<Response> {
  return fetch(`${adminUrl}/approvals/${id}/${verb}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}
