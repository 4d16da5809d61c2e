// Calls to Carter plugins through the real pipeline, against the fixture API in its own
// process: request shape (GET/POST, inputs, secret, relationship_token), Carter's response
// rules, every way an answer can go wrong, and aborts that reach the server.
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { ErrorCode, isToolportError } from '../../../src/core/errors.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../../src/toolport.js';
import { redisMissing, startRedis } from '../../helpers/redis-server.js';
import { startCarterApi, type CarterApi, type RecordedRequest } from './carter-api.js';

const secret = 'calls-secret-Zq81-fe02';
let api: CarterApi;
let toolport: Toolport;
const scratch = useTempDir('toolport-http-calls-', 'all');
let stateDir: string;
const logs: string[] = [];

/** A port where nothing listens: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function call(name: string, args: Record<string, unknown>, options: { principal?: string; signal?: AbortSignal; on?: Toolport } = {}): Promise<CallToolResult> {
  return callTool(options.on ?? toolport, name, args, {
    ...(options.signal && { signal: options.signal }),
    context: { principal: options.principal ?? 'local' },
  });
}

function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

async function lastRequest(path: string): Promise<RecordedRequest> {
  const seen = (await api.requests()).filter((request) => request.path === path);
  const last = seen[seen.length - 1];
  if (!last) throw new Error(`the API saw no request to ${path}`);
  return last;
}

/** Waits until the API saw the request to `path` go away before it answered. */
async function waitForAbort(path: string): Promise<RecordedRequest> {
  const until = Date.now() + 5_000;
  for (;;) {
    const request = await lastRequest(path);
    if (request.aborted || Date.now() > until) return request;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  api = await startCarterApi({ secret });
  stateDir = join(scratch.path, 'state');
  const gone = join(scratch.path, 'gone.json');
  const manifest = (await (await fetch(api.manifestUrl('faults'))).json()) as { api: { base_url: string } };
  manifest.api.base_url = `http://127.0.0.1:${await closedPort()}/api`;
  await writeFile(gone, JSON.stringify(manifest));
  const config = parseConfig({
    plugins: [
      { path: api.manifestUrl('calls'), secretToken: secret, readOnly: ['*'] },
      { path: api.manifestUrl('faults'), secretToken: secret, readOnly: ['*'], timeoutSeconds: 1 },
      { path: api.manifestUrl('faults'), id: 'quick', secretToken: secret, readOnly: ['*'], timeoutSeconds: 10, timeouts: { headersSeconds: 0.3 } },
      { path: api.manifestUrl('calls'), id: 'fixedrel', secretToken: secret, readOnly: ['*'], relationshipToken: 'rel-fixed-1' },
      { path: api.manifestUrl('calls'), id: 'nosecret', readOnly: ['*'] },
      { path: gone, id: 'gone', secretToken: secret, readOnly: ['*'] },
    ],
  });
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  toolport = await createToolport(config, { logger, stateDir });
  expect(toolport.diagnostics).toEqual([]);
});

afterAll(async () => {
  await toolport?.close();
  await api?.stop();
});

describe('http calls: the request', () => {
  it('POST with string, number and boolean inputs, JSON body, secret header', async () => {
    const result = await call('calls__types', { text: 'héllo ✓', count: 2.5, flag: true });
    expect(result.isError).toBeUndefined();
    const request = await lastRequest('/api/types');
    expect(request.method).toBe('POST');
    expect(request.contentType).toBe('application/json');
    expect(request.secretHeader).toBe(secret);
    expect(request.cacheControl).toBeNull();
    expect(request.body?.data).toEqual({ text: 'héllo ✓', count: 2.5, flag: true });
    expect(request.body?.relationship_token).toMatch(/^[0-9a-f]{64}$/);
    expect(result.structuredContent).toEqual({ received: { text: 'héllo ✓', count: 2.5, flag: true }, types: 'text:string,count:number,flag:boolean', method: 'POST' });
    // The text block carries the same data for clients that ignore structuredContent.
    expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
  });

  it('an optional input left out is absent from data; false stays false', async () => {
    await call('calls__types', { text: 'a', count: 0 });
    expect((await lastRequest('/api/types')).body?.data).toEqual({ text: 'a', count: 0 });
    await call('calls__types', { text: 'a', count: -1, flag: false });
    expect((await lastRequest('/api/types')).body?.data).toEqual({ text: 'a', count: -1, flag: false });
  });

  it('GET sends the body too, with Cache-Control: no-store', async () => {
    const result = await call('calls__get_echo', { text: 'over get' });
    expect(result.structuredContent).toEqual({ text: 'echo: over get', method: 'GET' });
    const request = await lastRequest('/api/get-echo');
    expect(request.method).toBe('GET');
    expect(request.cacheControl).toBe('no-store');
    expect(request.body?.data).toEqual({ text: 'over get' });
    expect(request.secretHeader).toBe(secret);
  });

  it('a missing required input, a wrong type or an unknown input is refused before any request', async () => {
    await api.reset();
    const missing = await call('calls__types', { text: 'no count' });
    expect(missing.isError).toBe(true);
    expect(textOf(missing)).toMatch(/Invalid arguments for calls__types: .*count/);
    const wrongType = await call('calls__types', { text: 'a', count: '3' });
    expect(textOf(wrongType)).toMatch(/\/count: must be number/);
    const extra = await call('calls__types', { text: 'a', count: 1, colour: 'red' });
    expect(textOf(extra)).toMatch(/unexpected property "colour"/);
    expect(await api.requests()).toEqual([]);
  });

  it('without secretToken no header is sent, and the API\'s 401 is explained', async () => {
    const result = await call('nosecret__types', { text: 'a', count: 1 });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('types: the plugin\'s API answered HTTP 401; it did not accept the secret token (check the plugin\'s secretToken in the toolport config)');
    expect((await lastRequest('/api/types')).secretHeader).toBeNull();
  });
});

describe('http calls: relationship_token', () => {
  const tokenOf = async (name: string, principal: string, on?: Toolport): Promise<unknown> =>
    ((await call(name, {}, { principal, ...(on && { on }) })).structuredContent as { token?: unknown } | undefined)?.token;

  it('is derived per principal: stable for one, different between two', async () => {
    const alice = await tokenOf('calls__relationship', 'alice');
    expect(alice).toMatch(/^[0-9a-f]{64}$/);
    expect(await tokenOf('calls__relationship', 'alice')).toBe(alice);
    const bob = await tokenOf('calls__relationship', 'bob');
    expect(bob).toMatch(/^[0-9a-f]{64}$/);
    expect(bob).not.toBe(alice);
  });

  it('stays the same across restarts with the same state folder, and differs between installations', async () => {
    const alice = await tokenOf('calls__relationship', 'alice');
    const config = parseConfig({ plugins: [{ path: api.manifestUrl('calls'), secretToken: secret, readOnly: ['*'] }] });
    const again = await createToolport(config, { stateDir });
    const elsewhere = await createToolport(config, { stateDir: join(scratch.path, 'other-state') });
    try {
      expect(await tokenOf('calls__relationship', 'alice', again)).toBe(alice);
      expect(await tokenOf('calls__relationship', 'alice', elsewhere)).not.toBe(alice);
    } finally {
      await again.close();
      await elsewhere.close();
    }
  });

  it.skipIf(redisMissing !== undefined)(
    `with a shared state, replicas with their own state folders derive the same tokens${redisMissing ? ` (skipped: ${redisMissing})` : ''}`,
    async () => {
      const redis = await startRedis();
      const opened: Toolport[] = [];
      try {
        const shared = (folder: string, state: Record<string, unknown>): Promise<Toolport> =>
          createToolport(parseConfig({ state, plugins: [{ path: api.manifestUrl('calls'), secretToken: secret, readOnly: ['*'] }] }), { stateDir: join(scratch.path, folder) });
        for (const folder of ['replica-a', 'replica-b']) opened.push(await shared(folder, { redis: { url: redis.url } }));
        const [a, b] = opened as [Toolport, Toolport];
        const alice = await tokenOf('calls__relationship', 'alice', a);
        expect(alice).toMatch(/^[0-9a-f]{64}$/);
        expect(await tokenOf('calls__relationship', 'alice', b)).toBe(alice);
        // Not the installation's own key: that one is in the state folder, unused here.
        expect(alice).not.toBe(await tokenOf('calls__relationship', 'alice'));
        // A key in the config (state.keys.relationship) is the same everywhere, Redis or not.
        const key = 'relationship-key-for-the-test-0123456789';
        for (const folder of ['configured-a', 'configured-b']) opened.push(await shared(folder, { keys: { relationship: key } }));
        const configured = await tokenOf('calls__relationship', 'alice', opened[2]);
        expect(configured).toMatch(/^[0-9a-f]{64}$/);
        expect(await tokenOf('calls__relationship', 'alice', opened[3])).toBe(configured);
        expect(configured).not.toBe(alice);
      } finally {
        await Promise.allSettled(opened.map((entry) => entry.close()));
        await redis.stop();
      }
    },
    30_000,
  );

  it('relationshipToken in the config is sent for every principal', async () => {
    expect(await tokenOf('fixedrel__relationship', 'alice')).toBe('rel-fixed-1');
    expect(await tokenOf('fixedrel__relationship', 'bob')).toBe('rel-fixed-1');
  });
});

describe('http calls: answers in Carter\'s format', () => {
  it('structuredContent matches the outputSchema clients are shown', async () => {
    const ajv = new Ajv2020({ strict: false });
    const results = {
      calls__types: await call('calls__types', { text: 'x', count: 1, flag: false }),
      calls__get_echo: await call('calls__get_echo', { text: 'x' }),
      calls__forced: await call('calls__forced', {}),
      calls__null_fields: await call('calls__null_fields', {}),
      calls__no_data: await call('calls__no_data', {}),
    };
    for (const [name, result] of Object.entries(results)) {
      const tool = toolport.listTools().find((entry) => entry.name === name);
      const schema = tool?.mcpTool.outputSchema;
      expect(schema, name).toBeDefined();
      expect(result.isError, name).toBeUndefined();
      expect(ajv.validate(schema as object, result.structuredContent), `${name}: ${ajv.errorsText()}`).toBe(true);
    }
    expect(results.calls__no_data.structuredContent).toEqual({});
    expect(results.calls__null_fields.structuredContent).toEqual({ text: 'ok' });
  });

  it('forced_response: the model is told to relay it verbatim; data stays in structuredContent', async () => {
    const result = await call('calls__forced', {});
    expect(result.isError).toBeUndefined();
    expect(result.content[0]).toEqual({
      type: 'text',
      text: 'The plugin requires this exact reply. Send it to the user verbatim, with nothing added or changed:\n\nThe answer is 42.',
    });
    expect(textOf(result)).toContain('Context for later turns (not for this reply): {"answer":42,"ok":true}');
    expect(result.structuredContent).toEqual({ answer: 42, ok: true });
  });

  it('success: false → isError with the plugin\'s error; with forced_response, the reply to relay', async () => {
    const result = await call('calls__forced_fail', {});
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain('verbatim, with nothing added or changed:\n\nSorry, I cannot open the vault.');
    expect(textOf(result)).toContain('the plugin reported an error: The vault is locked.');
  });

  it('the limits themselves pass: data of exactly 500 characters (counted as code points) and forced_response of 500', async () => {
    const result = await call('calls__exact_limits', {});
    expect(result.isError).toBeUndefined();
    expect(result.structuredContent).toEqual({ text: '🌍'.repeat(489) });
    expect(JSON.stringify(result.structuredContent).length).toBe(989); // UTF-16 units: counting those would refuse it
  });

  it('a Carter failure sent with a 4xx status is still the plugin\'s own answer', async () => {
    const result = await call('calls__envelope_400', {});
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('The location "Qwxyz" is not a place.');
  });

  it('a secret the API echoes back is replaced before the model sees it', async () => {
    const result = await call('calls__echo_secret', {});
    expect(result.structuredContent).toEqual({ text: 'you sent [redacted]' });
    expect(JSON.stringify(result)).not.toContain(secret);
    expect(logs.some((line) => line.includes('echoed the secret token'))).toBe(true);
  });
});

describe('http calls: Carter\'s rules and broken answers', () => {
  const cases: [tool: string, message: string | RegExp][] = [
    ['oversize', /^oversize: the plugin's answer breaks Carter's response rules: "data" is 611 characters as JSON; Carter allows at most 500$/],
    ['undeclared', 'undeclared: the plugin\'s answer breaks Carter\'s response rules: "data" has a key the manifest does not declare as outputs of undeclared: "extra"'],
    ['wrong_type', 'wrong_type: the plugin\'s answer breaks Carter\'s response rules: data.count is a string, but the manifest declares it as number'],
    ['long_error', 'long_error: the plugin\'s answer breaks Carter\'s response rules: "error" is 501 characters; Carter allows at most 500'],
    ['long_forced', 'long_forced: the plugin\'s answer breaks Carter\'s response rules: "forced_response" is 501 characters; Carter allows at most 500'],
    ['data_list', 'data_list: the plugin\'s answer breaks Carter\'s response rules: "data" must be an object, got a list'],
    ['no_success', 'no_success: the plugin\'s answer is not a Carter response (a JSON object with a boolean "success")'],
    ['not_json', 'not_json: the plugin\'s API answered something that is not JSON'],
    ['status_500', 'status_500: the plugin\'s API answered HTTP 500'],
    ['status_403', /^status_403: the plugin's API answered HTTP 403; it did not accept the secret token/],
    ['redirect', 'redirect: the plugin\'s API answered with a redirect (HTTP 302); toolport does not follow redirects'],
  ];
  it.each(cases)('%s → isError saying what broke', async (tool, message) => {
    const result = await call(`faults__${tool}`, {});
    expect(result.isError).toBe(true);
    if (typeof message === 'string') expect(textOf(result)).toBe(message);
    else expect(textOf(result)).toMatch(message);
  });

  it('a redirect is not followed', async () => {
    await api.reset();
    await call('faults__redirect', {});
    expect((await api.requests()).map((request) => request.path)).toEqual(['/api/redirect']);
  });

  it('a 10 MiB answer is cut at 1 MiB without harm, and the plugin keeps working', async () => {
    const result = await call('faults__huge', {});
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('huge: the plugin\'s API answered more than 1048576 bytes; the answer was dropped');
    const next = await call('faults__echo', { text: 'after huge' });
    expect(next.structuredContent).toEqual({ text: 'echo: after huge' });
  });

  it('a refused connection is a short, safe isError', async () => {
    const result = await call('gone__echo', { text: 'anyone?' });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^echo: no answer from the plugin's API \(http:\/\/127\.0\.0\.1:\d+\): connection refused$/);
  });

  it('the plugin crashing mid-request does not break the next call', async () => {
    const contract = await createToolport(parseConfig({ plugins: [{ path: api.manifestUrl('contract'), secretToken: secret, readOnly: ['*'] }] }));
    try {
      const crashed = await call('contract__crash', {}, { on: contract });
      expect(textOf(crashed)).toMatch(/^crash: no answer from the plugin's API \(.+\): the connection was closed before a complete answer$/);
      expect((await call('contract__echo', { text: 'x' }, { on: contract })).structuredContent).toEqual({ text: 'echo: x' });
    } finally {
      await contract.close();
    }
  });
});

describe('http calls: slow endpoints', () => {
  it('the call timeout aborts the request on the server', async () => {
    const started = Date.now();
    const result = await call('faults__slow', { ms: 8_000 });
    expect(textOf(result)).toBe('faults__slow timed out after 1 s');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect((await waitForAbort('/api/slow')).aborted).toBe(true);
  });

  it('client cancellation aborts the request on the server', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const error = await toolport.call('faults__slow', { ms: 8_000 }, { signal: controller.signal }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(isToolportError(error) && error.code).toBe(ErrorCode.CallCancelled);
    expect((await waitForAbort('/api/slow')).aborted).toBe(true);
  });

  it('the configured headers timeout applies within a longer call timeout', async () => {
    const started = Date.now();
    const result = await call('quick__slow', { ms: 8_000 });
    expect(textOf(result)).toMatch(/^slow: no answer from the plugin's API \(.+\): no answer within 0\.3 s$/);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await waitForAbort('/api/slow')).aborted).toBe(true);
  });

  it('an answer that arrives in time is used', async () => {
    expect((await call('faults__slow', { ms: 100 })).structuredContent).toEqual({ text: 'finally' });
  });

  it('closing the plugin aborts what is in flight', async () => {
    const own = await createToolport(parseConfig({ plugins: [{ path: api.manifestUrl('faults'), secretToken: secret, readOnly: ['*'], timeoutSeconds: 20 }] }));
    const pending = call('faults__slow', { ms: 8_000 }, { on: own });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await own.close();
    expect(textOf(await pending)).toMatch(/shutting down/);
    expect((await waitForAbort('/api/slow')).aborted).toBe(true);
  });
});

describe('http calls: logs', () => {
  it('the secret token never reaches the log (trace level, after every call above)', () => {
    const text = logs.join('');
    expect(text).toContain('plugin API answered'); // the log did record the calls
    expect(text).toContain('"status":401');
    expect(text).not.toContain(secret);
  });
});
