// Each function of asterai:host/api@0.1.0, called by a real guest (the kitchen fixture)
// through the real pipeline: what the agent sees, env grants, the persistent kv store
// and its user scopes, the call context, the local embedding store, query-agent.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, startHttpServer } from '../../helpers/toolport-process.js';
import { kitchenWasm, resultOf, sharedCacheDir, startToolport, textOf, writeConfig, type TestToolport } from './helpers.js';

const secret = 'sekrit-value-4f1c';
let kitchen: TestToolport;

beforeAll(async () => {
  process.env.TOOLPORT_TEST_SECRET = secret;
  process.env.TOOLPORT_TEST_OTHER = 'not granted';
  kitchen = await startToolport(
    [{ path: kitchenWasm, timeoutSeconds: 60, grants: { env: ['TOOLPORT_TEST_SECRET'] }, settings: { appId: 'app-123' } }],
    { keepState: true },
  );
}, 120_000);

afterAll(async () => {
  await kitchen?.close();
  if (kitchen) await rm(kitchen.stateDir, { recursive: true, force: true });
  delete process.env.TOOLPORT_TEST_SECRET;
  delete process.env.TOOLPORT_TEST_OTHER;
});

describe('wasm host API: send-response-to-agent', () => {
  it('is the text the agent sees, the last call winning; the return value stays structured', async () => {
    const result = await kitchen.call('kitchen__respond', { texts: ['first draft', 'final answer'] });
    expect(result.content).toEqual([{ type: 'text', text: 'final answer' }]);
    expect(result.structuredContent).toEqual({ result: 2 });
  });

  it('without it the agent sees the return value', async () => {
    const result = await kitchen.call('kitchen__respond', { texts: [] });
    expect(result.content).toEqual([{ type: 'text', text: '0' }]);
  });

  it('does not leak into the next call', async () => {
    await kitchen.call('kitchen__respond', { texts: ['only for this call'] });
    expect(textOf(await kitchen.call('kitchen__echo-string', { v: 'next' }))).toBe('next');
  });
});

describe('wasm host API: get-env', () => {
  it('answers granted names only, and the value is never logged', async () => {
    expect((await kitchen.call('kitchen__env', { name: 'TOOLPORT_TEST_SECRET' })).structuredContent).toEqual({ result: secret });
    expect((await kitchen.call('kitchen__env', { name: 'TOOLPORT_TEST_OTHER' })).structuredContent).toEqual({ result: null });
    expect((await kitchen.call('kitchen__env', { name: 'PATH' })).structuredContent).toEqual({ result: null });
    expect(JSON.stringify(kitchen.log.records)).not.toContain(secret);
  });
});

describe('wasm host API: kv-get / kv-set', () => {
  it('stores per user id, or app-wide without one', async () => {
    await kitchen.call('kitchen__kv-put', { key: 'colour', value: 'red', user: 'alice' });
    await kitchen.call('kitchen__kv-put', { key: 'colour', value: 'blue', user: 'bob' });
    await kitchen.call('kitchen__kv-put', { key: 'colour', value: 'green' });
    const read = async (user?: string): Promise<unknown> =>
      resultOf(await kitchen.call('kitchen__kv-read', { key: 'colour', ...(user !== undefined && { user }) }));
    expect(await read('alice')).toBe('red');
    expect(await read('bob')).toBe('blue');
    expect(await read()).toBe('green');
    expect(await read('carol')).toBeNull();
  });

  it('a none value deletes the key; odd keys are kept as they are', async () => {
    await kitchen.call('kitchen__kv-put', { key: '__proto__', value: 'odd but fine', user: 'constructor' });
    expect((await kitchen.call('kitchen__kv-read', { key: '__proto__', user: 'constructor' })).structuredContent).toEqual({ result: 'odd but fine' });
    await kitchen.call('kitchen__kv-put', { key: '__proto__', value: null, user: 'constructor' });
    expect((await kitchen.call('kitchen__kv-read', { key: '__proto__', user: 'constructor' })).structuredContent).toEqual({ result: null });
  });

  it('persists across restarts, in the plugin’s own folder of the state dir', async () => {
    await kitchen.call('kitchen__kv-put', { key: 'visits', value: '41', user: 'alice' });
    const onDisk = JSON.parse(await readFile(join(kitchen.stateDir, 'wasm-data', 'kitchen', 'kv.json'), 'utf8')) as {
      users: Record<string, Record<string, string>>;
    };
    expect(onDisk.users.alice?.visits).toBe('41');
    const again = await startToolport([{ path: kitchenWasm, timeoutSeconds: 60 }], { stateDir: kitchen.stateDir });
    try {
      expect((await again.call('kitchen__kv-read', { key: 'visits', user: 'alice' })).structuredContent).toEqual({ result: '41' });
    } finally {
      await again.toolport.close();
    }
  }, 120_000);
});

describe('wasm host API: get-context', () => {
  it('gives the call as the query, the caller as the user id, and the app id', async () => {
    const plain = await kitchen.call('kitchen__context');
    expect(plain.structuredContent).toEqual({ result: { query: { content: '{}', 'user-id': 'local' }, 'app-id': 'app-123' } });
    const { toolport } = kitchen;
    const outcome = await toolport.call('kitchen__context', {}, { context: { principal: 'alice' } });
    expect(outcome.structuredContent).toEqual({ result: { query: { content: '{}', 'user-id': 'alice' }, 'app-id': 'app-123' } });
  });
});

describe('wasm host API: embedding-store / embedding-search', () => {
  it('finds stored texts by similarity, best first, per collection', async () => {
    for (const content of ['The cheeseburger comes with cheddar and pickles', 'Fries are salted twice', 'Our burgers are grilled over charcoal']) {
      await kitchen.call('kitchen__remember', { content, collection: 'menu' });
    }
    await kitchen.call('kitchen__remember', { content: 'cheeseburger inventory: 12', collection: 'stock' });
    const result = await kitchen.call('kitchen__recall', { query: 'cheese burger', collection: 'menu' });
    const hits = (resultOf(result) ?? []) as { score: number; payload: [string, string][] }[];
    expect(hits.length).toBeGreaterThanOrEqual(2);
    expect(hits[0]?.payload).toContainEqual(['content', 'The cheeseburger comes with cheddar and pickles']);
    expect(hits.every((hit) => hit.payload.some(([key, value]) => key === 'collection' && value === 'menu'))).toBe(true);
    const scores = hits.map((hit) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((score) => score > 0 && score <= 1)).toBe(true);
    expect(hits.some((hit) => hit.payload.some(([, value]) => value.startsWith('Fries')))).toBe(false);
  });

  it('an unknown collection finds nothing', async () => {
    expect((await kitchen.call('kitchen__recall', { query: 'anything', collection: 'nope' })).structuredContent).toEqual({ result: [] });
  });
});

describe('wasm host API: query-agent', () => {
  it('a caller that cannot be asked (no sampling) ends the call with -32021', async () => {
    await expect(kitchen.call('kitchen__ask', { question: 'what is on the menu?' })).rejects.toMatchObject({ code: -32021 });
  });

  it.each(['http-2025', 'http-2026'] as const)('asks the client’s model when the client offers sampling (%s)', async (era) => {
    const config = await writeConfig({ plugins: [{ path: kitchenWasm, cacheDir: sharedCacheDir, timeoutSeconds: 60 }] });
    const server = await startHttpServer(['--config', config]);
    const questions: string[] = [];
    const client = await connectClient(era, { url: server.url }, { capabilities: { sampling: {} } });
    client.setRequestHandler('sampling/createMessage', (request) => {
      const last = request.params.messages.at(-1)?.content;
      questions.push(last && !Array.isArray(last) && last.type === 'text' ? last.text : '');
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'Croissants and sourdough.' } };
    });
    try {
      const result = (await client.callTool({ name: 'kitchen__ask', arguments: { question: 'what is on the menu?' } }));
      expect(result.isError).toBeFalsy();
      expect(textOf(result)).toBe('Croissants and sourdough.');
      // Once, in both eras: on 2026-07-28 the guest runs again and gets the recorded answer.
      expect(questions).toEqual(['what is on the menu?']);
      const bare = await connectClient(era, { url: server.url });
      try {
        await expect(bare.callTool({ name: 'kitchen__ask', arguments: { question: 'anything?' } })).rejects.toMatchObject({ code: -32021 });
      } finally {
        await bare.close();
      }
    } finally {
      await client.close();
      await server.stop();
    }
  }, 120_000);
});
