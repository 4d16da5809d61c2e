// The promises of README "Permissions and approvals" tried as an attacker would, through the
// real `toolport serve` over HTTP and stdio: a 2026-07-28 approval's signed requestState
// retried for changed arguments or another tool (or forged, or left out) asks again and runs
// nothing; malformed answers (an unknown decision, no content, cancel, decline, an unknown
// action) refuse the call and the plugin never runs; a call approved in one round is not asked
// about again in its later rounds (the plugin's own question); a call nobody can approve is
// refused with a message naming the channels the rule allows and what each would need; and
// `toolport approvals approve ID --session` covers the same call in that session only.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ElicitRequest, ElicitResult } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminUrlOf, decideApproval, waitForPending } from '../helpers/admin.js';
import { runCli } from '../helpers/run-cli.js';
import { connectClient, readLines, serveConfig, type ConfiguredServer, type Era } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';
import { rawModernRequest, type RawReply, type RawRequest } from '../helpers/raw-modern.js';

const shop = fileURLToPath(new URL('../fixtures/policy/shop.mjs', import.meta.url));
const adminToken = 'admin-token-for-approval-promises-7';
const env = { ADMIN_TOKEN: adminToken };

// A module plugin whose tools have side effects (they ask for approval) and ask the user a
// question of their own before they act; what they did goes to a marker file, one line a run
// that got past its question.
const guardedPlugin = `
import { appendFileSync } from 'node:fs';
const tool = (name) => ({
  name,
  description: 'Sends a parcel after asking where to.',
  sideEffects: true,
  parameters: { type: 'object', properties: { parcel: { type: 'string' } }, required: ['parcel'] },
});
export default {
  manifest: { id: 'guarded', tools: [tool('send'), tool('send_by_operator')] },
  async executeTool(name, args, ctx) {
    const answer = await ctx.elicit({
      message: 'Where should ' + args.parcel + ' go?',
      requestedSchema: { type: 'object', properties: { address: { type: 'string' } }, required: ['address'] },
    });
    const address = answer.action === 'accept' ? String(answer.content?.address) : '(' + answer.action + ')';
    appendFileSync(ctx.settings.marker, JSON.stringify({ tool: name, parcel: args.parcel, address }) + '\\n');
    return 'sent ' + args.parcel + ' to ' + address;
  },
};
`;

let http: ConfiguredServer;
let ledger: string;
let marker: string;

beforeAll(async () => {
  http = await serveConfig(
    (dir) => [
      'policy:',
      '  rules:',
      '    - { tool: guarded__send_by_operator, action: ask, channels: [inbox] }',
      'approvals:',
      '  timeoutSeconds: 15',
      '  admin: { token: "${ADMIN_TOKEN}", port: 0 }',
      'plugins:',
      `  - path: ${shop}`,
      `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`,
      `  - path: ${join(dir, 'guarded.mjs')}`,
      `    settings: { marker: ${JSON.stringify(join(dir, 'sent.txt'))} }`,
    ],
    { env, prepare: (dir) => writeFile(join(dir, 'guarded.mjs'), guardedPlugin) },
  );
  ledger = join(http.dir, 'ledger.txt');
  marker = join(http.dir, 'sent.txt');
});

afterAll(async () => {
  await http?.stop();
});

const adminUrl = (): string => adminUrlOf(http);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const elicitationCapable = { elicitation: { form: {} } };

// A raw 2026-07-28 client, as an attacker writes one: every field of the request is its own.
const rawCall = (name: string, args: Record<string, unknown>, retry: RawRequest['retry'] = {}): Promise<RawReply> =>
  rawModernRequest(http.url, { name, args, retry, clientName: 'attacker' });

const approveOnce = { action: 'accept', content: { decision: 'once' } };

/** The first round of a call that asks for approval: its requestState and the form's text. */
async function askedState(name: string, args: Record<string, unknown>): Promise<{ requestState: string; message: string }> {
  const reply = await rawCall(name, args);
  expect(reply.result?.resultType).toBe('input_required');
  const requestState = reply.result?.requestState;
  const message = reply.result?.inputRequests?.approval?.params.message;
  if (requestState === undefined || message === undefined) throw new Error(`no approval round: ${JSON.stringify(reply)}`);
  return { requestState, message };
}

/** The reply asks for approval again, for `tool` with arguments containing `argsText`. */
function expectAskedAgain(reply: RawReply, tool: string, argsText: string): void {
  expect(reply.error).toBeUndefined();
  expect(reply.result?.resultType).toBe('input_required');
  const message = reply.result?.inputRequests?.approval?.params.message ?? '';
  expect(message).toContain(`Allow ${tool}?`);
  expect(message).toContain(`Arguments: ${argsText}`);
  expect(reply.result?.content).toBeUndefined();
}

describe('a 2026-07-28 approval is bound to the exact call (README: "the answer must come back with toolport\'s signed requestState for that digest, or toolport asks again")', () => {
  it('an approved state retried with changed arguments does not run the call: toolport asks again about the changed call', async () => {
    const before = await readLines(ledger);
    const { requestState, message } = await askedState('shop__order', { item: 'salad' });
    expect(message).toContain('Arguments: {"item":"salad"}');
    // The attacker approves the harmless call and sends the approval with other arguments.
    for (const changed of [{ item: 'salad', count: 50 }, { item: 'caviar' }, { item: 'salad', note: 'extra' }]) {
      const attack = await rawCall('shop__order', changed, { requestState, inputResponses: { approval: approveOnce } });
      expectAskedAgain(attack, 'shop__order', JSON.stringify(changed));
    }
    expect(await readLines(ledger)).toEqual(before);
    // The same kind of state and answer does let the call it was made for run (so the
    // attack above failed because of the arguments, not because the retry was malformed).
    const control = await askedState('shop__order', { item: 'salad' });
    const allowed = await rawCall('shop__order', { item: 'salad' }, { requestState: control.requestState, inputResponses: { approval: approveOnce } });
    expect(allowed.result?.resultType).toBe('complete');
    expect(textOf(allowed.result ?? {})).toBe('ordered 1 salad');
    expect(await readLines(ledger)).toEqual([...before, '{"item":"salad"}']);
  });

  it('an approved state retried for another tool (same arguments) does not run it: toolport asks again about that tool', async () => {
    const { requestState } = await askedState('shop__order', { id: 7, item: 'soup' });
    const attack = await rawCall('shop__refund', { id: 7, item: 'soup' }, { requestState, inputResponses: { approval: approveOnce } });
    expectAskedAgain(attack, 'shop__refund', '{"id":7,"item":"soup"}');
    expect(JSON.stringify(attack)).not.toContain('refunded');
  });

  it('an approval answer with no requestState, or with a state whose digest was rewritten, runs nothing', async () => {
    const before = await readLines(ledger);
    const unasked = await rawCall('shop__order', { item: 'pie' }, { inputResponses: { approval: approveOnce } });
    expectAskedAgain(unasked, 'shop__order', '{"item":"pie"}');

    // Rewrites the digest in a genuine state to that of the changed call; the signature stays.
    const { requestState } = await askedState('shop__order', { item: 'pie' });
    const [version, payload, mac] = requestState.split('.') as [string, string, string];
    const decoded = Buffer.from(payload, 'base64url').toString('utf8');
    const canonical = JSON.stringify({ count: 9, item: 'pie' });
    const changedDigest = createHash('sha256').update('shop__order').update('\u0000').update(canonical).digest('hex');
    const original = createHash('sha256').update('shop__order').update('\u0000').update('{"item":"pie"}').digest('hex');
    expect(decoded).toContain(original);
    const forged = [version, Buffer.from(decoded.replace(original, changedDigest)).toString('base64url'), mac].join('.');
    const attack = await rawCall('shop__order', { item: 'pie', count: 9 }, { requestState: forged, inputResponses: { approval: approveOnce } });
    expect(attack.result?.resultType).not.toBe('complete');
    expect(JSON.stringify(attack)).toContain('Invalid or expired requestState');
    expect(await readLines(ledger)).toEqual(before);
  });
});

// ---------------------------------------------------------------------------------------------

describe('a malformed approval answer refuses the call, and the plugin never runs', () => {
  const malformed: [string, unknown, string][] = [
    ['an unknown decision', { action: 'accept', content: { decision: 'always' } }, 'the approval answer was malformed'],
    ['a decision of another type', { action: 'accept', content: { decision: true } }, 'the approval answer was malformed'],
    ['accept without content', { action: 'accept' }, 'the approval answer was malformed'],
    ['accept with empty content', { action: 'accept', content: {} }, 'the approval answer was malformed'],
    ['an unknown action', { action: 'approve', content: { decision: 'once' } }, 'the approval answer was malformed'],
    ['no action at all', { content: { decision: 'once' } }, 'the approval answer was malformed'],
    ['cancel, even with an approving decision', { action: 'cancel', content: { decision: 'once' } }, 'the user dismissed the approval prompt'],
    ['decline, even with an approving decision', { action: 'decline', content: { decision: 'session' } }, 'the user declined the call'],
  ];

  it.each(malformed)('over a 2026-07-28 round trip: %s', async (_label, answer, reason) => {
    const before = await readLines(ledger);
    const { requestState } = await askedState('shop__order', { item: 'malformed burger' });
    const reply = await rawCall('shop__order', { item: 'malformed burger' }, { requestState, inputResponses: { approval: answer } });
    expect(reply.result?.isError).toBe(true);
    expect(textOf(reply.result ?? {})).toBe(`shop__order was not run: ${reason}`);
    // The refused answer cannot be corrected by sending the same state again.
    const corrected = await rawCall('shop__order', { item: 'malformed burger' }, { requestState, inputResponses: { approval: approveOnce } });
    expect(corrected.result?.isError).toBe(true);
    expect(textOf(corrected.result ?? {})).toContain('this approval was already used');
    expect(await readLines(ledger)).toEqual(before);
  });

  // The SDK drops an inputResponses entry that is not an object (the spec's bare results are
  // objects), so toolport sees no answer: it asks again, with a new state, and runs nothing.
  it.each([
    ['a bare string', 'once'],
    ['null', null],
    ['an array', [{ action: 'accept', content: { decision: 'once' } }]],
    ['a wrapped {method, result} envelope', { method: 'elicitation/create', result: approveOnce }],
  ])('over a 2026-07-28 round trip: %s is no answer: the call is asked about again and does not run', async (_label, answer) => {
    const before = await readLines(ledger);
    const { requestState } = await askedState('shop__order', { item: 'odd burger' });
    const reply = await rawCall('shop__order', { item: 'odd burger' }, { requestState, inputResponses: { approval: answer } });
    expectAskedAgain(reply, 'shop__order', '{"item":"odd burger"}');
    expect(reply.result?.requestState).not.toBe(requestState);
    const corrected = await rawCall('shop__order', { item: 'odd burger' }, { requestState, inputResponses: { approval: approveOnce } });
    expect(textOf(corrected.result ?? {})).toContain('this approval was already used');
    expect(await readLines(ledger)).toEqual(before);
  });

  describe.each<Era>(['stdio', 'http-2025'])('pushed as elicitation over %s', (era) => {
    const pushed: [string, ElicitResult, RegExp][] = [
      ['an unknown decision', { action: 'accept', content: { decision: 'always' } }, /^shop__order was not run: (the approval answer was malformed|the approval request failed)/],
      ['accept without content', { action: 'accept' }, /^shop__order was not run: the approval answer was malformed$/],
      ['cancel, even with an approving decision', { action: 'cancel', content: { decision: 'once' } }, /^shop__order was not run: the user dismissed the approval prompt$/],
      ['decline', { action: 'decline' }, /^shop__order was not run: the user declined the call$/],
    ];
    it.each(pushed)('%s', async (_label, answer, expected) => {
      const target = era === 'stdio' ? { serveArgs: ['--config', http.configPath], env } : { url: http.url };
      const client = await connectClient(era, target, { capabilities: elicitationCapable });
      const prompts: string[] = [];
      client.setRequestHandler('elicitation/create', (request) => {
        prompts.push(request.params.message);
        return answer;
      });
      try {
        const before = await readLines(ledger);
        const result = await client.callTool({ name: 'shop__order', arguments: { item: `pushed ${era}` } });
        expect(prompts).toHaveLength(1);
        expect(result.isError).toBe(true);
        expect(textOf(result)).toMatch(expected);
        expect(await readLines(ledger)).toEqual(before);
      } finally {
        await client.close();
      }
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe.each<Era>(['http-2026', 'stdio-modern'])('a call approved in one round is not asked about again in its later rounds (%s)', (era) => {
  it('the approval comes first, the plugin\'s own question in a later round, and no second approval prompt', async () => {
    const target = era === 'stdio-modern' ? { serveArgs: ['--config', http.configPath], env } : { url: http.url };
    const client = await connectClient(era, target, { capabilities: elicitationCapable });
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', (request): ElicitResult => {
      asked.push(request.params.message.split('\n')[0] ?? '');
      return request.params.message.startsWith('Allow ')
        ? { action: 'accept', content: { decision: 'once' } }
        : { action: 'accept', content: { address: 'Baker Street' } };
    });
    try {
      const parcel = `parcel-${era}`;
      const before = await readLines(marker);
      const result = await client.callTool({ name: 'guarded__send', arguments: { parcel } });
      expect(textOf(result)).toBe(`sent ${parcel} to Baker Street`);
      expect(asked).toEqual(['Allow guarded__send?', `Where should ${parcel} go?`]);
      expect(await readLines(marker)).toEqual([...before, JSON.stringify({ tool: 'send', parcel, address: 'Baker Street' })]);
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('a 2026-07-28 call approved from the inbox is not asked about again in its later rounds', () => {
  // README: "a call approved in one round is not asked about again in its later rounds", whoever
  // approved it. An inbox-only rule on a 2026-07-28 client that can answer the plugin's question:
  // the operator's approval must carry over to the round that brings the answer.
  it('the operator approves once; the plugin\'s question follows; the call does not wait in the inbox a second time', async () => {
    const client = await connectClient('http-2026', { url: http.url }, { capabilities: elicitationCapable });
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(request.params.message.split('\n')[0] ?? '');
      return { action: 'accept', content: { address: 'Fleet Street' } };
    });
    const approvals: string[] = [];
    try {
      const before = await readLines(marker);
      let settled = false;
      const call = client.callTool({ name: 'guarded__send_by_operator', arguments: { parcel: 'operator parcel' } });
      void call.finally(() => (settled = true)).catch(() => {});
      const first = await waitForPending(adminUrl(), adminToken);
      approvals.push(first);
      expect((await decideApproval(adminUrl(), adminToken, first, 'approve', { by: 'ops' })).status).toBe(200);
      // Approve whatever else waits, so that a second ask shows up here instead of as a timeout.
      while (!settled) {
        const response = await fetch(`${adminUrl()}/approvals`, { headers: { authorization: `Bearer ${adminToken}` } });
        const { pending } = (await response.json()) as { pending: { id: string; tool: string }[] };
        for (const entry of pending.filter((item) => item.tool === 'guarded__send_by_operator' && !approvals.includes(item.id))) {
          approvals.push(entry.id);
          await decideApproval(adminUrl(), adminToken, entry.id, 'approve', { by: 'ops' });
        }
        await sleep(25);
      }
      expect(textOf(await call)).toBe('sent operator parcel to Fleet Street');
      expect(asked).toEqual(['Where should operator parcel go?']);
      expect(approvals).toHaveLength(1);
      expect(await readLines(marker)).toEqual([...before, JSON.stringify({ tool: 'send_by_operator', parcel: 'operator parcel', address: 'Fleet Street' })]);
    } finally {
      await client.close();
    }
  }, 60_000);
});

// ---------------------------------------------------------------------------------------------

describe('a call nobody can approve is refused, saying which channels the rule allows and what each would need', () => {
  let bare: ConfiguredServer;
  let bareLedger: string;

  beforeAll(async () => {
    bare = await serveConfig((dir) => [
      'policy:',
      '  rules:',
      '    - { tool: shop__refund, action: ask, channels: [inbox] }',
      '    - { tool: shop__menu, action: ask, channels: [input_required, inbox] }',
      'plugins:',
      `  - path: ${shop}`,
      `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`,
    ]);
    bareLedger = join(bare.dir, 'ledger.txt');
  });

  afterAll(async () => {
    await bare?.stop();
  });

  const needs = {
    elicitation: 'a client that shows approval prompts (elicitation)',
    input_required: 'a 2026-07-28 client that answers input_required',
    inbox: 'the approval inbox (set approvals.admin.token to approve calls with `toolport approvals`)',
  };
  const refusal = (tool: string, channels: (keyof typeof needs)[]): string =>
    `${tool} was not run: this call needs approval through ${channels.map((name) => needs[name]).join(', or ')}, and none of these is available here (approvals.channels says who may approve; or add a policy rule that allows the tool)`;

  it.each<Era>(['stdio', 'http-2025', 'http-2026'])('over %s, a client without elicitation: the default channels, each with what it needs', async (era) => {
    const client = await connectClient(era, era === 'stdio' ? { serveArgs: ['--config', bare.configPath] } : { url: bare.url });
    try {
      const result = await client.callTool({ name: 'shop__order', arguments: { item: 'nobody asked' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toBe(refusal('shop__order', ['elicitation', 'input_required', 'inbox']));
      expect(await readLines(bareLedger)).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it.each<Era>(['http-2025', 'http-2026'])('over %s, a client that could show a prompt: only the channels the rule allows, and the client is not asked', async (era) => {
    const client = await connectClient(era, { url: bare.url }, { capabilities: elicitationCapable });
    const prompts: ElicitRequest['params'][] = [];
    client.setRequestHandler('elicitation/create', (request) => {
      prompts.push(request.params);
      return { action: 'accept', content: { decision: 'once' } };
    });
    try {
      const refund = await client.callTool({ name: 'shop__refund', arguments: { id: 1 } });
      expect(refund.isError).toBe(true);
      expect(textOf(refund)).toBe(refusal('shop__refund', ['inbox']));
      if (era === 'http-2025') {
        // input_required is for 2026-07-28 requests; a 2025 client has no way to answer it.
        const menu = await client.callTool({ name: 'shop__menu', arguments: {} });
        expect(menu.isError).toBe(true);
        expect(textOf(menu)).toBe(refusal('shop__menu', ['input_required', 'inbox']));
      }
      expect(prompts).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

describe('`toolport approvals approve ID --session` (the inbox, for clients without elicitation)', () => {
  const cli = (args: string[]) => runCli(['approvals', ...args, '--url', adminUrl()], { env: { TOOLPORT_ADMIN_TOKEN: adminToken } });

  /**
   * Starts a call and watches the inbox: resolves with the result if the call ends without
   * waiting there, or with the id of its pending approval (the call still waiting).
   */
  async function callOrPending(
    client: Awaited<ReturnType<typeof connectClient>>,
    args: Record<string, unknown>,
  ): Promise<{ result: Awaited<ReturnType<typeof client.callTool>> } | { pending: string; call: ReturnType<typeof client.callTool> }> {
    let settled: Awaited<ReturnType<typeof client.callTool>> | undefined;
    const call = client.callTool({ name: 'shop__order', arguments: args });
    void call.then((result) => (settled = result)).catch(() => {});
    for (;;) {
      const response = await fetch(`${adminUrl()}/approvals`, { headers: { authorization: `Bearer ${adminToken}` } });
      const { pending } = (await response.json()) as { pending: { id: string; tool: string; arguments: unknown }[] };
      const waiting = pending.find((entry) => entry.tool === 'shop__order');
      if (waiting) return { pending: waiting.id, call };
      if (settled) return { result: settled };
      await sleep(25);
    }
  }

  async function rejectWaiting(outcome: Awaited<ReturnType<typeof callOrPending>>): Promise<string> {
    if (!('pending' in outcome)) throw new Error(`the call ran without asking: ${textOf(outcome.result)}`);
    await cli(['reject', outcome.pending, '--reason', 'asked again']);
    const result = await outcome.call;
    expect(result.isError).toBe(true);
    return textOf(result);
  }

  it('the same call in the same session runs without asking again; changed arguments and another session still ask', async () => {
    const first = await connectClient('http-2025', { url: http.url });
    const second = await connectClient('http-2025', { url: http.url });
    try {
      const before = await readLines(ledger);
      const args = { item: 'session fries', count: 2 };
      const asked = await callOrPending(first, args);
      if (!('pending' in asked)) throw new Error(`the first call did not ask: ${textOf(asked.result)}`);
      const approved = await cli(['approve', asked.pending, '--session']);
      expect(approved).toMatchObject({ code: 0, stdout: `${asked.pending}: approved\n` });
      expect(textOf(await asked.call)).toBe('ordered 2 session fries');

      // The same call (keys in another order) in the same session: no inbox, it runs.
      const again = await callOrPending(first, { count: 2, item: 'session fries' });
      if ('pending' in again) await cli(['reject', again.pending, '--reason', 'asked again']);
      expect('result' in again && textOf(again.result)).toBe('ordered 2 session fries');

      // Changed arguments in that session ask again.
      expect(await rejectWaiting(await callOrPending(first, { item: 'session fries', count: 3 }))).toMatch(/asked again/);
      // The same call from another session asks again.
      expect(await rejectWaiting(await callOrPending(second, args))).toMatch(/asked again/);

      // Two orders ran, both of the approved call; nothing of the changed one or the other session.
      const ran = (await readLines(ledger)).slice(before.length).map((line) => JSON.parse(line) as unknown);
      expect(ran).toEqual([args, args]);
    } finally {
      await first.close();
      await second.close();
    }
  }, 60_000);

  it('without --session, approving once does not cover the same call again', async () => {
    const client = await connectClient('http-2025', { url: http.url });
    try {
      const args = { item: 'once fries' };
      const asked = await callOrPending(client, args);
      if (!('pending' in asked)) throw new Error('the first call did not ask');
      expect((await cli(['approve', asked.pending])).code).toBe(0);
      expect(textOf(await asked.call)).toBe('ordered 1 once fries');
      expect(await rejectWaiting(await callOrPending(client, args))).toMatch(/asked again/);
    } finally {
      await client.close();
    }
  }, 60_000);
});
