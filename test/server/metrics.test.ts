// Prometheus metrics at /metrics on the admin listener: a real server, a real SDK client
// making a known set of calls (allowed, rate-limited, denied, approved, rejected), then the
// exposition scraped and parsed; the counts must match what was done. Then the labels the
// README lists that those calls do not reach: stdio and sse sessions, timeout, failed and
// input_required approvals.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminUrlOf, decideApproval, waitForPending } from '../helpers/admin.js';
import { freePort } from '../helpers/mqtt-broker.js';
import { connectClient, serveConfig, type ConfiguredServer } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const shop = fileURLToPath(new URL('../fixtures/policy/shop.mjs', import.meta.url));
const adminToken = 'metrics-admin-token-0001';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] as string] = pair[2] as string;
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one sample with this name and (at least) these labels; 0 when there is none. */
function valueOf(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value ?? 0;
}

let server: ConfiguredServer;
let admin: string;

async function scrape(): Promise<Sample[]> {
  const response = await fetch(`${admin}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

beforeAll(async () => {
  server = await serveConfig((dir) => [
    'approvals:',
    '  timeoutSeconds: 30',
    `  admin: { token: "${adminToken}", port: 0 }`,
    'policy:',
    '  rules:',
    '    - { tool: shop__refund, action: deny, reason: "refunds go through the front desk" }',
    'limits:',
    '  - { tool: shop__menu, perMinute: 3 }',
    'plugins:',
    `  - path: ${shop}`,
    `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`,
  ]);
  admin = adminUrlOf(server);
});

afterAll(async () => {
  await server?.stop();
});

describe('/metrics', () => {
  it('refuses a scrape without the admin token', async () => {
    expect((await fetch(`${admin}/metrics`)).status).toBe(401);
    expect((await fetch(`${admin}/metrics`, { headers: { authorization: 'Bearer not-the-admin-token' } })).status).toBe(401);
  });

  it('counts calls, decisions, refusals, approvals and sessions as they happened', async () => {
    const client: Client = await connectClient('http-2025', { url: server.url });
    try {
      for (let index = 0; index < 4; index += 1) await client.callTool({ name: 'shop__menu', arguments: {} });
      const refund = await client.callTool({ name: 'shop__refund', arguments: { id: 1 } });
      expect(refund.isError).toBe(true);

      // One order approved, one rejected, through the inbox; the gauge shows the one waiting.
      const first = client.callTool({ name: 'shop__order', arguments: { item: 'fries' } });
      const id = await waitForPending(admin, adminToken);
      const waiting = await scrape();
      expect(valueOf(waiting, 'toolport_approvals_pending')).toBe(1);
      expect(valueOf(waiting, 'toolport_sessions_active', { transport: 'http' })).toBe(1);
      expect((await decideApproval(admin, adminToken, id, 'approve')).status).toBe(200);
      expect(textOf(await first)).toBe('ordered 1 fries');
      const second = client.callTool({ name: 'shop__order', arguments: { item: 'shake' } });
      const other = await waitForPending(admin, adminToken, [id]);
      expect((await decideApproval(admin, adminToken, other, 'reject', { reason: 'no shakes today' })).status).toBe(200);
      expect((await second).isError).toBe(true);

      const samples = await scrape();
      const calls = (tool: string, outcome: string): number =>
        valueOf(samples, 'mcp_server_operation_duration_seconds_count', { method: 'tools/call', tool, outcome });
      expect(calls('shop__menu', 'ok')).toBe(3);
      expect(calls('shop__menu', 'rate_limited')).toBe(1);
      expect(calls('shop__refund', 'denied')).toBe(1);
      expect(calls('shop__order', 'ok')).toBe(1);
      expect(calls('shop__order', 'rejected')).toBe(1);
      expect(samples.find((s) => s.name === 'mcp_server_operation_duration_seconds_count' && s.labels.tool === 'shop__menu' && s.labels.outcome === 'ok')?.labels.plugin).toBe('shop');
      // The sum is seconds: five quick calls take well under a minute together.
      expect(valueOf(samples, 'mcp_server_operation_duration_seconds_sum', { tool: 'shop__menu', outcome: 'ok' })).toBeLessThan(60);

      expect(valueOf(samples, 'toolport_policy_decisions_total', { decision: 'allow' })).toBe(4);
      expect(valueOf(samples, 'toolport_policy_decisions_total', { decision: 'deny' })).toBe(1);
      expect(valueOf(samples, 'toolport_policy_decisions_total', { decision: 'ask' })).toBe(2);
      expect(valueOf(samples, 'toolport_rate_limit_refusals_total', { tool: 'shop__menu' })).toBe(1);
      expect(valueOf(samples, 'toolport_approvals_answered_total', { outcome: 'approved', channel: 'inbox' })).toBe(1);
      expect(valueOf(samples, 'toolport_approvals_answered_total', { outcome: 'rejected', channel: 'inbox' })).toBe(1);
      expect(valueOf(samples, 'toolport_approvals_pending')).toBe(0);
      expect(valueOf(samples, 'toolport_sessions_total', { transport: 'http' })).toBe(1);

      // Ending the session closes it in the gauge and records how long it lasted.
      await (client.transport as StreamableHTTPClientTransport).terminateSession();
      const after = await scrape();
      expect(valueOf(after, 'toolport_sessions_active', { transport: 'http' })).toBe(0);
      expect(valueOf(after, 'mcp_server_session_duration_seconds_count', { transport: 'http' })).toBe(1);
    } finally {
      await client.close();
    }
  });
});

describe('/metrics labels on every transport and outcome', () => {
  // A server of its own, so its counts start at zero: sessions over SSE and stdio, a call that
  // times out, an approval wait that failed (the call was cancelled while it waited) and one
  // that ended with input_required (a 2026-07-28 client approving in a second round).
  let http: ConfiguredServer;
  let httpAdmin: string;
  const e2e = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
  const lines = (dir: string, adminPort: number): string[] => [
    'approvals:',
    '  timeoutSeconds: 30',
    `  admin: { token: "${adminToken}", port: ${adminPort} }`,
    'plugins:',
    `  - path: ${shop}`,
    `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`,
    `  - path: ${e2e}`,
    '    timeoutSeconds: 1',
  ];
  const scrapeAt = async (url: string): Promise<Sample[]> => {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(response.status).toBe(200);
    return parseExposition(await response.text());
  };

  beforeAll(async () => {
    http = await serveConfig((dir) => lines(dir, 0));
    httpAdmin = adminUrlOf(http);
  });
  afterAll(async () => {
    await http?.stop();
  });

  it('an SSE session is counted under transport="sse"', async () => {
    const client = await connectClient('sse', { url: http.url });
    try {
      expect(textOf(await client.callTool({ name: 'shop__menu', arguments: {} }))).toBe('burger, fries, shake');
      const open = await scrapeAt(httpAdmin);
      expect(valueOf(open, 'toolport_sessions_active', { transport: 'sse' })).toBe(1);
      expect(valueOf(open, 'toolport_sessions_total', { transport: 'sse' })).toBe(1);
      expect(valueOf(open, 'toolport_sessions_total', { transport: 'http' })).toBe(0);
    } finally {
      await client.close();
    }
    // The stream's end closes the session once: the gauge back at 0, one duration recorded
    // (and still one a moment later: a second close would have counted it again).
    await expect.poll(async () => valueOf(await scrapeAt(httpAdmin), 'mcp_server_session_duration_seconds_count', { transport: 'sse' }), { timeout: 5_000 }).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const closed = await scrapeAt(httpAdmin);
    expect(valueOf(closed, 'toolport_sessions_active', { transport: 'sse' })).toBe(0);
    expect(valueOf(closed, 'mcp_server_session_duration_seconds_count', { transport: 'sse' })).toBe(1);
  });

  it('a stdio connection is counted under transport="stdio"', async () => {
    const port = await freePort();
    const config = join(http.dir, 'stdio.yaml');
    await writeFile(config, `${lines(http.dir, port).join('\n')}\n`);
    const client = await connectClient('stdio', { serveArgs: ['--config', config] });
    try {
      expect(textOf(await client.callTool({ name: 'shop__menu', arguments: {} }))).toBe('burger, fries, shake');
      const samples = await scrapeAt(`http://127.0.0.1:${port}`);
      expect(valueOf(samples, 'toolport_sessions_active', { transport: 'stdio' })).toBe(1);
      expect(valueOf(samples, 'toolport_sessions_total', { transport: 'stdio' })).toBe(1);
      expect(valueOf(samples, 'mcp_server_operation_duration_seconds_count', { method: 'tools/call', tool: 'shop__menu', outcome: 'ok' })).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('a call that runs out of time has outcome="timeout"', async () => {
    const client = await connectClient('http-2026', { url: http.url });
    try {
      const slow = await client.callTool({ name: 'e2e__slow', arguments: { steps: 100 } });
      expect(slow.isError).toBe(true);
      const samples = await scrapeAt(httpAdmin);
      expect(valueOf(samples, 'mcp_server_operation_duration_seconds_count', { method: 'tools/call', tool: 'e2e__slow', outcome: 'timeout' })).toBe(1);
      expect(valueOf(samples, 'mcp_server_operation_duration_seconds_count', { method: 'tools/call', tool: 'e2e__slow', outcome: 'error' })).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('an approval wait the caller cancelled is answered outcome="failed"', async () => {
    const client = await connectClient('http-2025', { url: http.url });
    try {
      const cancel = new AbortController();
      const call = client.callTool({ name: 'shop__order', arguments: { item: 'fries' } }, { signal: cancel.signal }).then(
        () => 'answered',
        () => 'cancelled',
      );
      await waitForPending(httpAdmin, adminToken);
      expect(valueOf(await scrapeAt(httpAdmin), 'toolport_approvals_pending')).toBe(1);
      cancel.abort();
      expect(await call).toBe('cancelled');
      await expect
        .poll(async () => valueOf(await scrapeAt(httpAdmin), 'toolport_approvals_answered_total', { outcome: 'failed' }), { timeout: 5_000 })
        .toBe(1);
      expect(valueOf(await scrapeAt(httpAdmin), 'toolport_approvals_pending')).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('an approval asked of a 2026-07-28 client ends its first round with outcome="input_required"', async () => {
    const client = await connectClient('http-2026', { url: http.url }, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler('elicitation/create', () => ({ action: 'accept', content: { decision: 'once' } }));
    try {
      expect(textOf(await client.callTool({ name: 'shop__order', arguments: { item: 'shake' } }))).toBe('ordered 1 shake');
      const samples = await scrapeAt(httpAdmin);
      expect(valueOf(samples, 'toolport_approvals_answered_total', { outcome: 'input_required' })).toBe(1);
      expect(samples.filter((sample) => sample.name === 'toolport_approvals_answered_total' && sample.labels.outcome === 'approved').reduce((sum, sample) => sum + sample.value, 0)).toBe(1);
    } finally {
      await client.close();
    }
  });
});
