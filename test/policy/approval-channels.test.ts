// Who may approve, tried as an attacker would over real transports: a client that can show
// prompts must not approve a call whose rule allows only the out-of-band inbox (2025 HTTP
// sessions and 2026-07-28), and a 2026-07-28 "approve once" answer cannot be replayed.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport, type ElicitRequest } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, readLines, serveConfig, type ConfiguredServer, type Era } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const shop = fileURLToPath(new URL('../fixtures/policy/shop.mjs', import.meta.url));
const adminToken = 'admin-token-for-channels-01';
const clientToken = 'client-token-for-channels-02';

let http: ConfiguredServer;
let ledger: string;

beforeAll(async () => {
  http = await serveConfig(
    (dir) => [
      'server:',
      '  http:',
      '    auth:',
      '      tokens: [{ token: "${CLIENT_TOKEN}", principal: mallory, tools: ["shop__*"] }]',
      'policy:',
      '  rules:',
      '    - { tool: shop__refund, action: ask, channels: [inbox] }',
      'approvals:',
      '  timeoutSeconds: 20',
      '  admin: { token: "${ADMIN_TOKEN}", port: 0 }',
      'audit: { path: ./audit.jsonl }',
      'plugins:',
      `  - path: ${shop}`,
      `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`,
    ],
    { env: { ADMIN_TOKEN: adminToken, CLIENT_TOKEN: clientToken } },
  );
  ledger = join(http.dir, 'ledger.txt');
});

afterAll(async () => {
  await http?.stop();
});

const adminUrl = (): string => {
  const match = /"url":"(http:\/\/[^"]+)\/approvals"/.exec(http.stderr());
  if (!match?.[1]) throw new Error('the admin endpoint did not log its address');
  return match[1];
};

async function waitForPending(tool: string): Promise<string> {
  for (let attempt = 0; attempt < 400; attempt += 1) {
    const response = await fetch(`${adminUrl()}/approvals`, { headers: { authorization: `Bearer ${adminToken}` } });
    const { pending } = (await response.json()) as { pending: { id: string; tool: string }[] };
    const found = pending.find((entry) => entry.tool === tool);
    if (found) return found.id;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${tool} never reached the inbox`);
}

async function auditEnd(tool: string): Promise<Record<string, unknown> | undefined> {
  const records = (await readLines(join(http.dir, 'audit.jsonl'))).map((line) => JSON.parse(line) as Record<string, unknown>);
  return records.filter((record) => record.tool === tool && record.phase === 'end').at(-1);
}

describe.each<Era>(['http-2025', 'http-2026'])('an inbox-only rule over %s', (era) => {
  it('the calling client is never asked, cannot approve its own call, and the admin can', async () => {
    const prompts: ElicitRequest['params'][] = [];
    const client = await connectClient(era, { url: http.url, headers: { authorization: `Bearer ${clientToken}` } }, { capabilities: { elicitation: { form: {} } } });
    // The attacker's client approves anything it is shown.
    client.setRequestHandler('elicitation/create', (request) => {
      prompts.push(request.params);
      return { action: 'accept', content: { decision: 'once' } };
    });
    try {
      const call = client.callTool({ name: 'shop__refund', arguments: { id: era === 'http-2025' ? 1 : 2 } });
      const id = await waitForPending('shop__refund');
      expect(prompts).toEqual([]);
      const decided = await fetch(`${adminUrl()}/approvals/${id}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ by: 'ops' }),
      });
      expect(decided.status).toBe(200);
      expect(textOf(await call)).toBe('refunded');
      expect(prompts).toEqual([]);
      expect(await auditEnd('shop__refund')).toMatchObject({ outcome: 'ok', channel: 'inbox', approver: 'admin (ops)', principal: 'mallory' });
    } finally {
      await client.close();
    }
  });
});

describe('a 2026-07-28 approval', () => {
  it('lets one call run; replaying the same requestState and answer is refused', async () => {
    const retries: { body: string; headers: Record<string, string> }[] = [];
    // Records the request that carries the answer, as an attacker on the client's side could.
    const recordingFetch: typeof fetch = async (input, init) => {
      const body = typeof init?.body === 'string' ? init.body : '';
      if (body.includes('"inputResponses"')) retries.push({ body, headers: Object.fromEntries(new Headers(init?.headers).entries()) });
      return fetch(input, init);
    };
    const client = new Client({ name: 'replayer', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } });
    client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { decision: 'once' } }));
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`), { fetch: recordingFetch, requestInit: { headers: { authorization: `Bearer ${clientToken}` } } }),
    );
    try {
      const before = (await readLines(ledger)).length;
      const first = await client.callTool({ name: 'shop__order', arguments: { item: 'replayed fries' } });
      expect(textOf(first)).toBe('ordered 1 replayed fries');
      expect(retries).toHaveLength(1);
      const [retry] = retries as [(typeof retries)[number]];
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const replayed = await fetch(`${http.url}/mcp`, { method: 'POST', headers: retry.headers, body: retry.body });
        const text = await replayed.text();
        expect(text).toContain('this approval was already used');
        expect(text).toContain('"isError":true');
      }
      expect((await readLines(ledger)).length).toBe(before + 1);
      expect(await auditEnd('shop__order')).toMatchObject({ outcome: 'rejected', channel: 'input_required' });
    } finally {
      await client.close();
    }
  });
});
