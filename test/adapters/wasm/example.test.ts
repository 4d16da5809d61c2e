// The bakery example as `npm start` serves it (examples/toolport.yaml), driven by a real MCP
// client over every transport: its tools, the text the agent sees, structured results, an
// order that asks for approval first (WIT cannot say it writes; the config names the tools
// that only read), an order refused with fallback suggestions, and state kept per caller.
import type { Client, ElicitRequest } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTransports, connectClient, repoRoot, startHttpServer, type RunningServer } from '../../helpers/toolport-process.js';
import { resultOf, textOf } from './helpers.js';

let server: RunningServer;
const examplesConfig = join(repoRoot, 'examples', 'toolport.yaml');
// The Trailhead API is not started here: its plugin fails to load and the others are served.
const env = { TRAILHEAD_MANIFEST_URL: 'http://127.0.0.1:9/carterplugin.json', TRAILHEAD_SECRET: 'not-used-here' };

beforeAll(async () => {
  server = await startHttpServer(['--config', examplesConfig], { env });
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

describe('wasm example: the bakery', () => {
  it('is built from its current sources (else: npm run build:examples)', async () => {
    const { sourcesHash, stampPath } = (await import(join(repoRoot, 'examples', 'bakery', 'build.mjs'))) as {
      sourcesHash: () => Promise<string>;
      stampPath: string;
    };
    expect((await readFile(stampPath, 'utf8')).trim()).toBe(await sourcesHash());
  });

  for (const era of allTransports) {
    describe(`over ${era}`, () => {
      let client: Client;
      const prompts: ElicitRequest['params'][] = [];

      beforeAll(async () => {
        const target = era.startsWith('stdio') ? { serveArgs: ['--config', examplesConfig], env } : { url: server.url };
        client = await connectClient(era, target, { capabilities: { elicitation: { form: {} } } });
        // The person at the client approves each order once.
        client.setRequestHandler('elicitation/create', (request) => {
          prompts.push(request.params);
          return { action: 'accept', content: { decision: 'once' } };
        });
      }, 120_000);

      afterAll(async () => {
        await client?.close();
      });

      const call = async (name: string, args: Record<string, unknown>): Promise<CallToolResult> =>
        (await client.callTool({ name: `bakery__${name}`, arguments: args }));

      it('lists the bakery next to the other examples, documented from its WIT', async () => {
        const { tools } = await client.listTools();
        const names = tools.map((tool) => tool.name);
        expect(names).toEqual(expect.arrayContaining(['bakery__menu', 'bakery__place-order', 'bakery__order-status', 'notebook__add_note']));
        const place = tools.find((tool) => tool.name === 'bakery__place-order');
        expect(place?.description).toBe('Orders pastries for delivery. Fails with suggestions when the order cannot be taken.');
        expect(place?.inputSchema.properties?.order).toMatchObject({
          title: 'order',
          required: ['address', 'pastry', 'quantity'],
          properties: { quantity: { type: 'integer', minimum: 0, maximum: 255, description: 'How many, 1 to 24.' } },
        });
      });

      it('takes an order once it is approved, tells the agent about it, and finds it again', async () => {
        prompts.length = 0;
        const menu = await call('menu', {});
        expect(textOf(menu)).toMatch(/^Baked today: croissant €1\.80, /);
        expect(prompts).toEqual([]);
        const placed = await call('place-order', { order: { address: '12 Rue du Four, Paris', pastry: 'croissant', quantity: 3 } });
        expect(prompts).toHaveLength(1);
        expect(prompts[0]?.message).toContain('Allow bakery__place-order?');
        expect(prompts[0]?.message).toContain('policy.unknownSideEffects: ask');
        expect(placed.isError).toBeFalsy();
        expect(textOf(placed)).toMatch(/^Order #\d+ placed: 3 × croissant for €5\.40, delivered to 12 Rue du Four, Paris in about 26 minutes\.$/);
        const receipt = resultOf(placed) as { number: number };
        expect(receipt).toMatchObject({ pastry: 'croissant', quantity: 3, 'total-cents': 540, 'eta-minutes': 26 });
        const status = await call('order-status', { number: receipt.number });
        expect(resultOf(status)).toEqual(receipt);
      });

      it('refuses an order it cannot take, with fallback suggestions', async () => {
        const refused = await call('place-order', { order: { address: 'x', pastry: 'croissant', quantity: 0 } });
        expect(refused.isError).toBe(true);
        expect(textOf(refused)).toBe(
          'The order was not taken.\nFallback suggestions:\n- give a full street address\n- order between 1 and 24',
        );
      });

      it('does not know orders it never took', async () => {
        const missing = await call('order-status', { number: 999_999 });
        expect(textOf(missing)).toBe('There is no order #999999 for you.');
        expect(resultOf(missing)).toBeNull();
      });
    });
  }
});
