// The approval chain end to end, through real SDK clients over stdio, sessionful HTTP,
// SSE and 2026-07-28 HTTP: elicitation prompts (approve once, for the session, reject,
// decline, a failing prompt), argument binding, the out-of-band inbox released by
// `toolport approvals approve`, timeouts, denied tools, missing grants, and the audit log.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Client, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, connectClient, connectWithoutStandaloneStream, readLines, serveConfig, type ConfiguredServer, type Era } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';
import { adminUrlOf, waitForPending as waitForPendingAt } from '../helpers/admin.js';

const run = promisify(execFile);
const shop = fileURLToPath(new URL('../fixtures/policy/shop.mjs', import.meta.url));
const adminToken = 'admin-token-for-tests-0001';
const sessionSecret = 'sk-live-very-secret-value-42';

let dir: string;
let ledger: string;
let auditPath: string;
let configPath: string;
let http: ConfiguredServer;
const env = { ADMIN_TOKEN: adminToken, SHOP_SECRET: sessionSecret };


const ledgerLines = (): Promise<string[]> => readLines(ledger);

type Answer = ElicitResult | Error;

const approve = (decision: 'once' | 'session'): ElicitResult => ({ action: 'accept', content: { decision } });

beforeAll(async () => {
  http = await serveConfig(
    (scratch) => [
      'server:',
      '  http:',
      '    auth:',
      '      tokens: ["${SHOP_SECRET}"]',
      'policy:',
      '  rules:',
      '    - { tool: shop__refund, action: deny, reason: "refunds go through the front desk" }',
      'approvals:',
      '  timeoutSeconds: 15',
      '  admin: { token: "${ADMIN_TOKEN}", port: 0 }',
      'audit: { path: ./audit.jsonl, includeArguments: true }',
      'plugins:',
      `  - path: ${shop}`,
      `    settings: { ledger: ${JSON.stringify(join(scratch, 'ledger.txt'))} }`,
    ],
    { env },
  );
  ({ dir, configPath } = http);
  ledger = join(dir, 'ledger.txt');
  auditPath = join(dir, 'audit.jsonl');
});

afterAll(async () => {
  await http?.stop();
});

/**
 * A client over one transport; with prompts, its elicitation handler answers from a
 * script (an Error makes the prompt fail) and records each prompt.
 */
async function connect(era: Era, withPrompts: boolean): Promise<{ client: Client; answers: Answer[]; prompts: ElicitRequest['params'][] }> {
  const answers: Answer[] = [];
  const prompts: ElicitRequest['params'][] = [];
  const target = era === 'stdio' ? { serveArgs: ['--config', configPath], env } : { url: http.url, headers: { authorization: `Bearer ${sessionSecret}` } };
  const client = await connectClient(era, target, withPrompts ? { capabilities: { elicitation: { form: {} } } } : {});
  if (withPrompts) {
    client.setRequestHandler('elicitation/create', (request) => {
      prompts.push(request.params);
      const next = answers.shift();
      if (!next) throw new Error('no scripted answer');
      if (next instanceof Error) throw next;
      return next;
    });
  }
  return { client, answers, prompts };
}

describe.each<Era>(['stdio', 'http-2025', 'sse', 'http-2026'])('approvals by elicitation over %s', (era) => {
  it('approve once: the call runs once; the same call asks again', async () => {
    const { client, answers, prompts } = await connect(era, true);
    try {
      const before = (await ledgerLines()).length;
      answers.push(approve('once'), approve('once'));
      const first = await client.callTool({ name: 'shop__order', arguments: { item: `fries-${era}` } });
      expect(textOf(first)).toBe('ordered 1 fries-' + era);
      expect(prompts).toHaveLength(1);
      expect(prompts[0]?.message).toContain('Allow shop__order?');
      expect(prompts[0]?.message).toContain(`"item":"fries-${era}"`);
      await client.callTool({ name: 'shop__order', arguments: { item: `fries-${era}` } });
      expect(prompts).toHaveLength(2);
      expect((await ledgerLines()).length).toBe(before + 2);
    } finally {
      await client.close();
    }
  });

  it('reject: isError with the reason, and the plugin never ran', async () => {
    const { client, answers } = await connect(era, true);
    try {
      const before = await ledgerLines();
      answers.push({ action: 'accept', content: { decision: 'reject', reason: 'too much fat' } });
      const result = await client.callTool({ name: 'shop__order', arguments: { item: 'double burger' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe('shop__order was not run: the user rejected the call: too much fat');
      answers.push({ action: 'decline' });
      const declined = await client.callTool({ name: 'shop__order', arguments: { item: 'double burger' } });
      expect(textOf(declined)).toMatch(/declined/);
      expect(await ledgerLines()).toEqual(before);
    } finally {
      await client.close();
    }
  });

  it('a failing prompt refuses the call (fail closed)', async () => {
    const { client, answers } = await connect(era, true);
    try {
      const before = await ledgerLines();
      answers.push(new Error('the UI crashed'));
      const call = client.callTool({ name: 'shop__order', arguments: { item: 'shake' } });
      if (era === 'http-2026') {
        // The prompt is the client's own step of the round trip: the client gives up and never retries.
        await expect(call).rejects.toThrow(/the UI crashed/);
      } else {
        const result = await call;
        expect(result.isError).toBe(true);
        expect(textOf(result)).toMatch(/shop__order was not run: the approval request failed/);
      }
      expect(await ledgerLines()).toEqual(before);
    } finally {
      await client.close();
    }
  });

  it('"for this session" covers the same call in this session only; changed arguments ask again', async () => {
    const first = await connect(era, true);
    try {
      first.answers.push(approve('session'), approve('session'));
      await first.client.callTool({ name: 'shop__order', arguments: { item: 'cola', count: 2 } });
      await first.client.callTool({ name: 'shop__order', arguments: { count: 2, item: 'cola' } });
      // 2026-07-28 requests have no session, so every call asks.
      expect(first.prompts).toHaveLength(era === 'http-2026' ? 2 : 1);
      first.answers.push(approve('once'), approve('once'));
      await first.client.callTool({ name: 'shop__order', arguments: { item: 'cola', count: 3 } });
      expect(first.prompts.at(-1)?.message).toContain('"count":3');
    } finally {
      first.answers.length = 0;
      await first.client.close();
    }
    const second = await connect(era, true);
    try {
      second.answers.push(approve('once'));
      await second.client.callTool({ name: 'shop__order', arguments: { item: 'cola', count: 2 } });
      expect(second.prompts).toHaveLength(1);
    } finally {
      await second.client.close();
    }
  });
});

describe('approvals over HTTP with sessions, to a client that opens no standalone stream', () => {
  // The GET stream is optional for a client, and opens after initialize when it does: a prompt
  // sent there was lost (the SDK drops a message with no stream for it), and the call waited for
  // the approval timeout. It goes on the call's own response stream.
  it('the prompt arrives on the call\'s own stream, and the call runs', async () => {
    const prompts: string[] = [];
    const client = new Client({ name: 'no-get-stream', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    client.setRequestHandler('elicitation/create', (request) => {
      prompts.push(request.params.message);
      return approve('once');
    });
    await connectWithoutStandaloneStream(client, http.url, { authorization: `Bearer ${sessionSecret}` });
    try {
      const started = Date.now();
      const result = await client.callTool({ name: 'shop__order', arguments: { item: 'no-get-stream' } });
      expect(textOf(result)).toBe('ordered 1 no-get-stream');
      expect(prompts).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await client.close();
    }
  }, 30_000);
});

describe('the approval inbox, for clients without elicitation', () => {
  const cli = (args: string[]) =>
    run(process.execPath, [binPath, 'approvals', ...args, '--url', adminUrl()], { env: { ...process.env, TOOLPORT_ADMIN_TOKEN: adminToken } });
  const adminUrl = (): string => adminUrlOf(http);
  const waitForPending = (): Promise<string> => waitForPendingAt(adminUrl(), adminToken);

  it('the call waits, sends progress, and `toolport approvals approve ID` releases it', async () => {
    const { client } = await connect('http-2025', false);
    try {
      const updates: { progress: number; total?: number; message?: string }[] = [];
      const before = (await ledgerLines()).length;
      const call = client.callTool(
        { name: 'shop__order', arguments: { item: 'inbox burger' } },
        { onprogress: (update) => updates.push(update) },
      );
      const id = await waitForPending();
      const { stdout: listed } = await cli(['list']);
      expect(listed).toContain('shop__order');
      expect(listed).toContain('inbox burger');
      const { stdout } = await cli(['approve', id]);
      expect(stdout).toBe(`${id}: approved\n`);
      const result = await call;
      expect(textOf(result)).toBe('ordered 1 inbox burger');
      // Seconds waited of approvals.timeoutSeconds (15 here: time for two CLI commands on a loaded machine), so a client's progress bar moves.
      expect(updates[0]).toEqual({ progress: 0, total: 15, message: `waiting for approval ${id} (toolport approvals approve ${id}); expires in 15 s` });
      expect((await ledgerLines()).length).toBe(before + 1);
      await expect(cli(['approve', id])).rejects.toMatchObject({ code: 1 });
    } finally {
      await client.close();
    }
  });

  it('the approvals command says what is wrong: a refused token, an address that is not the admin listener, an id that cannot be one', async () => {
    const failing = (args: string[], token: string) =>
      run(process.execPath, [binPath, 'approvals', ...args], { env: { ...process.env, TOOLPORT_ADMIN_TOKEN: token } }).then(
        () => ({ code: 0, stderr: '' }),
        (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
      );
    const refused = await failing(['list', '--url', adminUrl()], 'not-the-admin-token');
    expect(refused).toEqual({ code: 1, stderr: `toolport: approvals: ${adminUrl()} refused the admin token (from TOOLPORT_ADMIN_TOKEN); it must be the serving toolport's approvals.admin.token\n` });
    // The MCP listener's address instead of the admin one.
    const mcp = new URL(http.url).origin;
    const elsewhere = await failing(['list', '--url', mcp], adminToken);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(new RegExp(`^toolport: approvals: ${mcp} did not answer as toolport's admin listener \\(HTTP \\d+: .*\\); is it the approvals.admin address\\?\n$`));
    const badId = await failing(['reject', 'not-an-id', '--reason', 'no', '--url', adminUrl()], adminToken);
    expect(badId).toEqual({ code: 1, stderr: 'toolport: no pending approval "not-an-id": an approval id is 8 hex digits (see GET /approvals)\n' });
    // A path segment that is not valid percent-encoding is just an id that matches nothing.
    const record = await fetch(`${adminUrl()}/calls/%E0%A4%A`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(record.status).toBe(404);
  });

  it('reject from the inbox tells the model why', async () => {
    const { client } = await connect('sse', false);
    try {
      const call = client.callTool({ name: 'shop__order', arguments: { item: 'inbox shake' } });
      const id = await waitForPending();
      await cli(['reject', id, '--reason', 'closed for cleaning']);
      const result = await call;
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/closed for cleaning/);
    } finally {
      await client.close();
    }
  });

  it('nobody deciding within approvals.timeoutSeconds rejects the call', async () => {
    const { client } = await connect('stdio', false);
    try {
      const before = await ledgerLines();
      const started = Date.now();
      const result = await client.callTool({ name: 'shop__order', arguments: { item: 'forgotten fries' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/nobody approved the call within 15 s/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(14_900);
      expect(await ledgerLines()).toEqual(before);
      const records = (await readFile(auditPath, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records.find((record) => String(record.message).includes('nobody approved the call'))).toMatchObject({
        outcome: 'rejected',
        channel: 'inbox',
        decision: 'ask',
      });
    } finally {
      await client.close();
    }
  });
});

describe('denials and grants', () => {
  it('a denied tool is absent from tools/list and refused by name, with the reason', async () => {
    const { client } = await connect('http-2025', false);
    try {
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('shop__menu');
      expect(names).not.toContain('shop__refund');
      const result = await client.callTool({ name: 'shop__refund', arguments: { id: 1 } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/shop__refund is not allowed: refunds go through the front desk/);
    } finally {
      await client.close();
    }
  });

  it('a read-only tool runs without a prompt', async () => {
    const { client, prompts } = await connect('http-2025', true);
    try {
      expect(textOf(await client.callTool({ name: 'shop__menu', arguments: {} }))).toBe('burger, fries, shake');
      expect(prompts).toHaveLength(0);
    } finally {
      await client.close();
    }
  });

  it('a tool whose declared permission is not granted is refused, naming the config line', async () => {
    const { client } = await connect('http-2025', false);
    try {
      const result = await client.callTool({ name: 'shop__secret_recipe', arguments: {} });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/declares READ_RECIPES, which the config does not grant \(to allow it, set plugins\[0\]\.grants\.permissions: \[READ_RECIPES\]\)/);
    } finally {
      await client.close();
    }
  });

  it('toolport policy explain names the rule that decides', async () => {
    const { stdout } = await run(process.execPath, [binPath, 'policy', 'explain', 'shop__refund', '{"id":1}', '--config', configPath], { env: { ...process.env, ...env } });
    expect(stdout).toContain('shop__refund: deny');
    expect(stdout).toContain('policy.rules[0] (tool: "shop__refund", action: deny)');
    const order = await run(process.execPath, [binPath, 'policy', 'explain', 'shop__order', '--config', configPath], { env: { ...process.env, ...env } });
    expect(order.stdout).toContain('shop__order: ask\n  because policy.sideEffects: ask (the tool has side effects)');
  });
});

describe('audit log', () => {
  it('has a record for every path, and no secret in any log line or record', async () => {
    const { client, answers } = await connect('http-2025', true);
    answers.push(approve('once'), { action: 'accept', content: { decision: 'reject', reason: 'no' } });
    await client.callTool({ name: 'shop__order', arguments: { item: 'audited fries' } });
    // A secret passed as an argument value must still be scrubbed.
    await client.callTool({ name: 'shop__order', arguments: { item: sessionSecret } });
    await client.callTool({ name: 'shop__refund', arguments: { id: 7 } });
    await client.callTool({ name: 'shop__menu', arguments: {} });
    await client.close();

    const records = (await readFile(auditPath, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const outcomes = new Set(records.map((record) => record.outcome));
    for (const outcome of ['ok', 'rejected', 'denied']) expect(outcomes, outcome).toContain(outcome);
    const approved = records.find((record) => record.outcome === 'ok' && (record.args as { item?: string }).item === 'audited fries');
    expect(approved).toMatchObject({ tool: 'shop__order', plugin: 'shop', decision: 'ask', channel: 'elicitation', principal: 'token-1' });
    expect(approved?.argsDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(records.find((record) => record.tool === 'shop__menu' && record.phase === 'end')).toMatchObject({ outcome: 'ok', decision: 'allow', rule: 'policy.default: allow (the tool is read-only)' });
    expect(records.find((record) => record.tool === 'shop__menu' && record.phase === 'start')).toMatchObject({ decision: 'allow' });
    const denied = records.find((record) => record.outcome === 'denied');
    expect(denied?.rule).toBe('policy.rules[0] (tool: "shop__refund", action: deny)');

    const everything = `${await readFile(auditPath, 'utf8')}\n${http.stderr()}`;
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(sessionSecret);
    expect(everything).not.toContain(adminToken);
  });
});
