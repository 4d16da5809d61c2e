// README promises about the 2026-07-28 requestState and the console that no other file pins down,
// tried as an attacker would:
// - "Asking the user and the model": the requestState is bound to the caller (principal) and
//   the method: principal B replaying principal A's state (same tool, same arguments, a valid
//   answer) with B's own token does not complete A's round trip, and the plugin never gets past
//   its question for B; a tools/call state replayed on prompts/get is refused. A restart
//   invalidates open round trips (same config, same state folder); states are valid for 10
//   minutes (in process, with the clock moved).
// - "Console": the server itself refuses a session cookie older than 12 hours (in process, with
//   the clock moved); live-call records hold argument values only with `audit.includeArguments`;
//   known secrets under ordinary keys are `[redacted]` on the console page and in /calls/ID.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createSilentLogger } from '../../src/core/logger.js';
import { serveAdmin, type AdminHandle } from '../../src/server/admin.js';
import { serveHttp, type HttpHandle } from '../../src/server/http.js';
import { createServerHub, type ServerHub } from '../../src/server/mcp-server.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { adminUrlOf, decideApproval, waitForPending } from '../helpers/admin.js';
import { connectClient, readLines, serveConfig, startHttpServer, type ConfiguredServer, type RunningServer } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';
import { rawModernRequest, type RawReply, type RawRequest } from '../helpers/raw-modern.js';

const aliceToken = 'alice-bearer-token-4f1c9a7e2b';
const malloryToken = 'mallory-bearer-token-8d3e6b0c5a';
const adminToken = 'admin-token-state-console-77x';
const env = { ALICE_TOKEN: aliceToken, MALLORY_TOKEN: malloryToken, ADMIN_TOKEN: adminToken };

// A module plugin: `withdraw` asks a question (the PIN) before it acts; every run that got past
// the question appends a line to the marker file. `echo` answers with its argument, `boom`
// throws with it, `transfer` is asked about (policy). A prompt for the method binding.
const vaultPlugin = `
import { appendFileSync } from 'node:fs';
const noteTool = (name, description) => ({ name, description, sideEffects: false, parameters: { type: 'object', properties: { note: { type: 'string' } }, required: ['note'] } });
export default {
  manifest: {
    id: 'vault',
    tools: [
      { name: 'withdraw', description: 'Withdraws money after asking for the PIN.', sideEffects: false,
        parameters: { type: 'object', properties: { amount: { type: 'integer' }, to: { type: 'string' } }, required: ['amount', 'to'] } },
      noteTool('echo', 'Echoes the note.'),
      noteTool('boom', 'Fails, naming the note.'),
      { name: 'transfer', description: 'Moves money (asked about).', sideEffects: true,
        parameters: { type: 'object', properties: { memo: { type: 'string' } }, required: ['memo'] } },
    ],
    prompts: [{ name: 'hello', description: 'Says hello.', arguments: [{ name: 'who', required: true }] }],
  },
  async executeTool(name, args, ctx) {
    switch (name) {
      case 'withdraw': {
        const answer = await ctx.elicit({
          message: 'PIN for ' + args.amount + ' to ' + args.to + '?',
          requestedSchema: { type: 'object', properties: { pin: { type: 'string' } }, required: ['pin'] },
        });
        const pin = answer.action === 'accept' ? String(answer.content?.pin) : '(' + answer.action + ')';
        appendFileSync(ctx.settings.marker, JSON.stringify({ amount: args.amount, to: args.to, pin }) + '\\n');
        return 'withdrew ' + args.amount + ' to ' + args.to;
      }
      case 'echo':
        return 'echo: ' + args.note;
      case 'boom':
        throw new Error('could not handle ' + args.note);
      case 'transfer':
        return 'transferred ' + args.memo;
      default:
        throw new Error('unknown tool ' + name);
    }
  },
  getPrompt(name, args) {
    return { description: 'hello', messages: [{ role: 'user', content: 'Hello ' + args.who }] };
  },
};
`;

const pinAnswer = { action: 'accept', content: { pin: '1234' } };
const invalidState = 'Invalid or expired requestState';

// A raw 2026-07-28 client: every field of the request is the caller's own.
const rawRequest = (
  baseUrl: string,
  token: string | undefined,
  method: 'tools/call' | 'prompts/get',
  name: string,
  args: Record<string, unknown>,
  retry: RawRequest['retry'] = {},
): Promise<RawReply> => rawModernRequest(baseUrl, { method, name, args, token, retry });

/** The first round of a withdraw: its requestState. */
async function askedPin(baseUrl: string, token: string | undefined, args: Record<string, unknown>): Promise<string> {
  const reply = await rawRequest(baseUrl, token, 'tools/call', 'vault__withdraw', args);
  expect(reply.result?.resultType, JSON.stringify(reply)).toBe('input_required');
  expect(reply.result?.inputRequests?.q0?.params.message).toBe(`PIN for ${String(args.amount)} to ${String(args.to)}?`);
  const state = reply.result?.requestState;
  if (state === undefined) throw new Error(`no requestState: ${JSON.stringify(reply)}`);
  return state;
}

/** The reply did not complete the call: refused as an invalid state, or asked afresh (with a new state). */
function expectNotCompleted(reply: RawReply, stolen: string): void {
  expect(reply.result?.resultType).not.toBe('complete');
  expect(JSON.stringify(reply)).not.toContain('withdrew');
  if (reply.result?.resultType === 'input_required') expect(reply.result.requestState).not.toBe(stolen);
  else expect(reply.error?.code).toBe(-32602);
}

// ---------------------------------------------------------------------------------------------
// The real server: two principals with static tokens, an admin listener, the default audit
// (no argument values).

/** The vault plugin behind the real server; `includeArguments` as the audit's. */
const serveVault = ({ includeArguments }: { includeArguments: boolean }): Promise<ConfiguredServer> =>
  serveConfig(
    (dir) => [
      'server:',
      '  http:',
      '    auth:',
      '      tokens:',
      '        - { token: "${ALICE_TOKEN}", principal: alice }',
      '        - { token: "${MALLORY_TOKEN}", principal: mallory }',
      'policy:',
      '  rules:',
      '    - { tool: vault__transfer, action: ask, channels: [inbox] }',
      'approvals:',
      '  timeoutSeconds: 30',
      '  admin: { token: "${ADMIN_TOKEN}", port: 0 }',
      `audit: { path: ${JSON.stringify(join(dir, 'audit.jsonl'))}${includeArguments ? ', includeArguments: true' : ''} }`,
      'plugins:',
      `  - path: ${join(dir, 'vault.mjs')}`,
      `    settings: { marker: ${JSON.stringify(join(dir, 'withdrawn.txt'))} }`,
    ],
    { env, prepare: (dir) => writeFile(join(dir, 'vault.mjs'), vaultPlugin) },
  );

let http: ConfiguredServer;
let marker: string;

beforeAll(async () => {
  http = await serveVault({ includeArguments: false });
  marker = join(http.dir, 'withdrawn.txt');
});

afterAll(async () => {
  await http?.stop();
});

describe('a requestState is bound to the caller (principal) and the method (README "Asking the user and the model")', () => {
  it("principal B replaying A's exact round trip (same tool, arguments, state, plus a valid answer) with B's token does not complete it; the plugin never acts for B", async () => {
    const args = { amount: 500, to: 'IBAN-ALICE-RENT' };
    const before = await readLines(marker);
    const stolen = await askedPin(http.url, aliceToken, args);
    // Mallory has her own valid token and replays everything else of Alice's retry.
    const attack = await rawRequest(http.url, malloryToken, 'tools/call', 'vault__withdraw', args, { requestState: stolen, inputResponses: { q0: pinAnswer } });
    expectNotCompleted(attack, stolen);
    // The SDK's binding check refuses it outright.
    expect(attack.error?.message).toContain(invalidState);
    // Replayed again (a second attempt is no different) and without answers.
    const again = await rawRequest(http.url, malloryToken, 'tools/call', 'vault__withdraw', args, { requestState: stolen, inputResponses: { q0: pinAnswer } });
    expectNotCompleted(again, stolen);
    expect(await readLines(marker)).toEqual(before);

    // The state itself was genuine: Alice, its principal, completes with it (so the attack
    // failed because of the principal, and Mallory's attempt did not use Alice's state up).
    const own = await rawRequest(http.url, aliceToken, 'tools/call', 'vault__withdraw', args, { requestState: stolen, inputResponses: { q0: pinAnswer } });
    expect(own.result?.resultType, JSON.stringify(own)).toBe('complete');
    expect(textOf(own.result ?? {})).toBe('withdrew 500 to IBAN-ALICE-RENT');
    expect(await readLines(marker)).toEqual([...before, JSON.stringify({ ...args, pin: '1234' })]);
  });

  it("B's own state is no good for A either (the binding goes both ways)", async () => {
    const args = { amount: 7, to: 'IBAN-MALLORY' };
    const before = await readLines(marker);
    const malloryState = await askedPin(http.url, malloryToken, args);
    const attack = await rawRequest(http.url, aliceToken, 'tools/call', 'vault__withdraw', args, { requestState: malloryState, inputResponses: { q0: pinAnswer } });
    expectNotCompleted(attack, malloryState);
    expect(await readLines(marker)).toEqual(before);
  });

  it('a state from tools/call replayed on prompts/get is refused; the same prompts/get without it is answered', async () => {
    const state = await askedPin(http.url, aliceToken, { amount: 3, to: 'IBAN-PROMPT' });
    const replayed = await rawRequest(http.url, aliceToken, 'prompts/get', 'vault__hello', { who: 'Ada' }, { requestState: state, inputResponses: { q0: pinAnswer } });
    expect(replayed.result).toBeUndefined();
    expect(replayed.error?.code).toBe(-32602);
    expect(replayed.error?.message).toContain(invalidState);
    const plain = await rawRequest(http.url, aliceToken, 'prompts/get', 'vault__hello', { who: 'Ada' });
    expect(plain.error, JSON.stringify(plain)).toBeUndefined();
    expect(JSON.stringify(plain.result?.messages)).toContain('Hello Ada');
  });
});

// ---------------------------------------------------------------------------------------------

describe('a restart invalidates open round trips (README: "a key made at start, so a restart invalidates open round trips")', () => {
  let dir: string;
  let server: RunningServer | undefined;

  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the same config and state folder, restarted between input_required and the retry: the retry is refused and nothing runs', async () => {
    dir = await mkdtemp(join(tmpdir(), 'toolport-restart-'));
    const configPath = join(dir, 'toolport.yaml');
    const restartMarker = join(dir, 'withdrawn.txt');
    await writeFile(join(dir, 'vault.mjs'), vaultPlugin);
    await writeFile(configPath, ['plugins:', `  - path: ${join(dir, 'vault.mjs')}`, `    settings: { marker: ${JSON.stringify(restartMarker)} }`, ''].join('\n'));
    const args = { amount: 40, to: 'IBAN-RESTART' };

    server = await startHttpServer(['--config', configPath]);
    // Control: a state of this run completes on this run.
    const control = await askedPin(server.url, undefined, args);
    const done = await rawRequest(server.url, undefined, 'tools/call', 'vault__withdraw', args, { requestState: control, inputResponses: { q0: pinAnswer } });
    expect(done.result?.resultType, JSON.stringify(done)).toBe('complete');
    expect(await readLines(restartMarker)).toHaveLength(1);

    const open = await askedPin(server.url, undefined, args);
    await server.stop();
    server = await startHttpServer(['--config', configPath]);
    const retry = await rawRequest(server.url, undefined, 'tools/call', 'vault__withdraw', args, { requestState: open, inputResponses: { q0: pinAnswer } });
    expect(retry.result).toBeUndefined();
    expect(retry.error?.code).toBe(-32602);
    expect(retry.error?.message).toContain(invalidState);
    expect(await readLines(restartMarker)).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Live-call records and the console's redaction, over the real admin listener.

interface LiveEvent {
  type: string;
  key: string;
  tool: string;
  outcome?: string;
}

/** The recent live events, as the console's stream sends them when it opens. */
async function recentEvents(adminUrl: string): Promise<LiveEvent[]> {
  const controller = new AbortController();
  const response = await fetch(`${adminUrl}/calls/events`, { headers: { authorization: `Bearer ${adminToken}` }, signal: controller.signal });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  let text = '';
  const decoder = new TextDecoder();
  // The recent events are written at once, before anything else happens on the stream.
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const chunk = await Promise.race([reader.read(), new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 300))]);
    if (!chunk || chunk.done) break;
    text += decoder.decode(chunk.value, { stream: true });
  }
  controller.abort();
  await reader.cancel().catch(() => {});
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => JSON.parse(line.slice(6)) as LiveEvent);
}

/** The /calls/ID record text of the latest ended call of `tool`. */
async function recordText(adminUrl: string, tool: string): Promise<string> {
  const ended = (await recentEvents(adminUrl)).filter((event) => event.type === 'end' && event.tool === tool).at(-1);
  if (!ended) throw new Error(`no ended call of ${tool} in the live view`);
  const response = await fetch(`${adminUrl}/calls/${encodeURIComponent(ended.key)}`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(response.status).toBe(200);
  return response.text();
}

async function callAs(baseUrl: string, token: string, name: string, args: Record<string, unknown>): Promise<RawReply> {
  return rawRequest(baseUrl, token, 'tools/call', name, args);
}

describe('live-call records hold argument values only with audit.includeArguments (README "Console")', () => {
  it('by default, a record of a call with a distinctive argument value does not contain it anywhere', async () => {
    const distinctive = 'zebra-quokka-6182-distinctive';
    const reply = await callAs(http.url, aliceToken, 'vault__echo', { note: distinctive });
    expect(textOf(reply.result ?? {})).toBe(`echo: ${distinctive}`);
    const text = await recordText(adminUrlOf(http), 'vault__echo');
    expect(JSON.parse(text)).toMatchObject({ tool: 'vault__echo', principal: 'alice', outcome: 'ok' });
    expect(text).not.toContain(distinctive);
    expect(text).not.toContain('zebra');
    expect(JSON.parse(text)).not.toHaveProperty('args');
  });
});

describe('with audit.includeArguments, records hold the arguments, and known secrets under ordinary keys are [redacted] (README "Console")', () => {
  let verbose: ConfiguredServer;
  let adminUrl: string;

  beforeAll(async () => {
    verbose = await serveVault({ includeArguments: true });
    adminUrl = adminUrlOf(verbose);
  });

  afterAll(async () => {
    await verbose?.stop();
  });

  it('the record holds a distinctive argument value', async () => {
    const distinctive = 'zebra-quokka-6182-distinctive';
    await callAs(verbose.url, aliceToken, 'vault__echo', { note: distinctive });
    const text = await recordText(adminUrl, 'vault__echo');
    expect(JSON.parse(text)).toMatchObject({ tool: 'vault__echo', args: { note: distinctive } });
  });

  it("a bearer token under an ordinary key of the arguments (echoed in the result) is [redacted] in the /calls record", async () => {
    // Alice sends Mallory's token (and the admin token) as plain notes; the tool echoes them.
    for (const secret of [malloryToken, adminToken]) {
      const reply = await callAs(verbose.url, aliceToken, 'vault__echo', { note: `see ${secret} here` });
      expect(textOf(reply.result ?? {})).toBe(`echo: see ${secret} here`);
      const text = await recordText(adminUrl, 'vault__echo');
      expect(text).not.toContain(secret);
      expect(JSON.parse(text)).toMatchObject({ args: { note: 'see [redacted] here' } });
    }
  });

  it('a secret sent to a tool that throws with it is [redacted] in its /calls record (outcome error)', async () => {
    await callAs(verbose.url, aliceToken, 'vault__boom', { note: malloryToken });
    const text = await recordText(adminUrl, 'vault__boom');
    expect(text).not.toContain(malloryToken);
    expect(JSON.parse(text)).toMatchObject({ tool: 'vault__boom', outcome: 'error', args: { note: '[redacted]' } });
  });

  it('on the console page, a waiting call whose ordinary argument holds a known secret shows [redacted]', async () => {
    const login = await fetch(`${adminUrl}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: adminUrl },
      body: new URLSearchParams({ token: adminToken }),
    });
    expect(login.status).toBe(303);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const client = await connectClient('http-2025', { url: verbose.url, headers: { authorization: `Bearer ${aliceToken}` } });
    try {
      const call = client.callTool({ name: 'vault__transfer', arguments: { memo: `pay with ${malloryToken} please` } });
      const id = await waitForPending(adminUrl, adminToken);
      const page = await (await fetch(`${adminUrl}/`, { headers: { cookie } })).text();
      expect(page).toContain('vault__transfer');
      expect(page).toContain('pay with [redacted] please');
      expect(page).not.toContain(malloryToken);
      // The inbox API (bearer) is for scripts; the page is what the README promises about.
      expect((await decideApproval(adminUrl, adminToken, id, 'reject')).status).toBe(200);
      expect((await call).isError).toBe(true);
    } finally {
      await client.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// In process (the same listeners the CLI starts), where the clock must move: only Date is
// faked; timers and I/O stay real.

describe('with the clock moved (in process)', () => {
  let dir: string;
  let toolport: Toolport;
  let hub: ServerHub;
  let mcp: HttpHandle;
  let admin: AdminHandle;
  let inProcessMarker: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'toolport-clock-'));
    inProcessMarker = join(dir, 'withdrawn.txt');
    await writeFile(join(dir, 'vault.mjs'), vaultPlugin);
    const config = parseConfig(
      {
        approvals: { admin: { token: adminToken, port: 0 } },
        plugins: [{ path: join(dir, 'vault.mjs'), settings: { marker: inProcessMarker } }],
      },
      { env: {} },
    );
    toolport = await createToolport(config, { baseDir: dir, logger: createSilentLogger() });
    hub = createServerHub(toolport, { name: 'toolport', version: '0.0.0-test' });
    mcp = await serveHttp(hub, createSilentLogger(), { host: '127.0.0.1', port: 0, tokens: [], allowedHosts: [] });
    if (!toolport.inbox) throw new Error('no inbox with approvals.admin set');
    admin = await serveAdmin(toolport, toolport.inbox, createSilentLogger(), { host: '127.0.0.1', port: 0, token: adminToken });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    vi.useRealTimers();
    await admin?.close();
    await mcp?.close();
    await hub?.close();
    await toolport?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a requestState is valid for 10 minutes: retried at 9:50 it completes, at 10:10 it is refused and nothing runs', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const start = Date.now();
    const args = { amount: 10, to: 'IBAN-CLOCK' };
    const early = await askedPin(mcp.url, undefined, args);
    const late = await askedPin(mcp.url, undefined, args);

    vi.setSystemTime(start + 590_000);
    const inTime = await rawRequest(mcp.url, undefined, 'tools/call', 'vault__withdraw', args, { requestState: early, inputResponses: { q0: pinAnswer } });
    expect(inTime.result?.resultType, JSON.stringify(inTime)).toBe('complete');
    expect(await readLines(inProcessMarker)).toHaveLength(1);

    vi.setSystemTime(start + 610_000);
    const expired = await rawRequest(mcp.url, undefined, 'tools/call', 'vault__withdraw', args, { requestState: late, inputResponses: { q0: pinAnswer } });
    expect(expired.result).toBeUndefined();
    expect(expired.error?.code).toBe(-32602);
    expect(expired.error?.message).toContain(invalidState);
    expect(await readLines(inProcessMarker)).toHaveLength(1);
  });

  it('the server refuses a console session cookie older than 12 hours (a client that keeps sending it gets the sign-in page and 401)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const start = Date.now();
    const login = await fetch(`${admin.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: admin.url },
      body: new URLSearchParams({ token: adminToken }),
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('set-cookie')).toContain('Max-Age=43200');
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const plugins = async (): Promise<string> => (await fetch(`${admin.url}/plugins`, { headers: { cookie } })).text();
    const approvals = async (): Promise<number> => (await fetch(`${admin.url}/approvals`, { headers: { cookie } })).status;

    expect(await plugins()).toContain('vault__withdraw');
    vi.setSystemTime(start + 12 * 3600_000 - 60_000);
    expect(await plugins()).toContain('vault__withdraw');
    expect(await approvals()).toBe(200);

    vi.setSystemTime(start + 12 * 3600_000 + 60_000);
    const page = await plugins();
    expect(page).toContain('Sign in');
    expect(page).not.toContain('vault__withdraw');
    expect(await approvals()).toBe(401);
    // Gone for good: back in time does not revive it.
    vi.setSystemTime(start);
    expect(await approvals()).toBe(401);
  });
});
