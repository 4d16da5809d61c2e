// Rate limits end to end over HTTP (both eras) and SSE with two principals: a burst beyond
// the bucket is refused with the time to retry (text and _meta) and the plugin never runs;
// the other principal is unaffected; a concurrency cap refuses a second call in flight.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, readLines, serveConfig, type ConfiguredServer, type Era } from '../helpers/toolport-process.js';

const kitchen = fileURLToPath(new URL('../fixtures/hooks/kitchen.mjs', import.meta.url));
const tokens = { alice: 'alice-token-0123456789', bob: 'bob-token-0123456789' };

let ledger: string;
let http: ConfiguredServer;

beforeAll(async () => {
  http = await serveConfig(
    (scratch) => [
      'server:',
      '  http:',
      '    auth:',
      '      tokens:',
      '        - { token: "${ALICE}", principal: alice }',
      '        - { token: "${BOB}", principal: bob }',
      'limits:',
      '  - { tool: "kitchen__order", perMinute: 3 }',
      '  - { tool: "kitchen__simmer", concurrency: 1, per: all }',
      // Not about approvals: the kitchen's tools (some write its ledger) run without asking.
      'policy: { unknownSideEffects: allow }',
      'plugins:',
      `  - path: ${kitchen}`,
      `    settings: { ledger: ${JSON.stringify(join(scratch, 'ledger.txt'))} }`,
    ],
    { env: { ALICE: tokens.alice, BOB: tokens.bob } },
  );
  ledger = join(http.dir, 'ledger.txt');
});

afterAll(async () => {
  await http?.stop();
});

const ledgerLines = (): Promise<string[]> => readLines(ledger);

const textOf = (result: { content?: unknown }): string => ((result.content ?? []) as { text?: string }[]).map((block) => block.text ?? '').join('\n');
const connect = (era: Era, who: keyof typeof tokens) => connectClient(era, { url: http.url, headers: { authorization: `Bearer ${tokens[who]}` } });

describe('rate limits per principal × tool', () => {
  it('a burst beyond the bucket is refused with the retry time; another principal is unaffected', async () => {
    // Each era counts against the same buckets: alice spends hers over three transports.
    const alice = { 'http-2025': await connect('http-2025', 'alice'), 'http-2026': await connect('http-2026', 'alice'), sse: await connect('sse', 'alice') };
    const bob = await connect('http-2026', 'bob');
    try {
      const before = await ledgerLines();
      const eras = ['http-2025', 'http-2026', 'sse'] as const;
      for (const era of eras) {
        const result = await alice[era].callTool({ name: 'kitchen__order', arguments: { item: `alice via ${era}` } });
        expect(textOf(result), era).toBe(`ordered alice via ${era}`);
      }
      for (const era of eras) {
        const refused = await alice[era].callTool({ name: 'kitchen__order', arguments: { item: 'one too many' } });
        expect(refused.isError, era).toBe(true);
        expect(textOf(refused), era).toMatch(
          /^kitchen__order was not run: rate limit reached under limits\[0\] \(tool kitchen__order: 3 per minute for each principal\); retry in \d+ s$/,
        );
        const retryAfter = refused._meta?.['toolport/retryAfterMs'];
        expect(retryAfter, era).toBeGreaterThan(15_000);
        expect(retryAfter, era).toBeLessThanOrEqual(20_000);
      }
      // The refused calls never reached the plugin.
      expect(await ledgerLines()).toHaveLength(before.length + 3);
      for (let call = 0; call < 3; call += 1) {
        expect(textOf(await bob.callTool({ name: 'kitchen__order', arguments: { item: `bob ${call}` } }))).toBe(`ordered bob ${call}`);
      }
      expect((await bob.callTool({ name: 'kitchen__order', arguments: { item: 'bob again' } })).isError).toBe(true);
      // Other tools are not limited.
      expect(textOf(await alice.sse.callTool({ name: 'kitchen__recipe', arguments: {} }))).toMatch(/^Recipe for soup/);
    } finally {
      await Promise.all([...Object.values(alice), bob].map((client) => client.close()));
    }
  });
});

describe('concurrency caps', () => {
  it('refuse a second call while one runs, for everyone together, and free up when it ends', async () => {
    const alice = await connect('http-2025', 'alice');
    const bob = await connect('sse', 'bob');
    try {
      const first = alice.callTool({ name: 'kitchen__simmer', arguments: { ms: 1500 } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await bob.callTool({ name: 'kitchen__simmer', arguments: { ms: 10 } });
      expect(second.isError).toBe(true);
      expect(textOf(second)).toMatch(/^kitchen__simmer was not run: 1 call is already running under limits\[1\] \(tool kitchen__simmer: 1 at once for everyone together\)/);
      expect(textOf(await first)).toBe('simmered 1500 ms');
      expect(textOf(await bob.callTool({ name: 'kitchen__simmer', arguments: { ms: 10 } }))).toBe('simmered 10 ms');
    } finally {
      await Promise.all([alice.close(), bob.close()]);
    }
  });
});
