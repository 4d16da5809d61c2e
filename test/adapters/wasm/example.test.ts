// The bakery example as `npm start` serves it (`toolport serve examples`), driven by a
// real MCP client over every transport: its tools, the text the agent sees, structured
// results, an order refused with fallback suggestions, and state kept per caller.
import type { Client } from '@modelcontextprotocol/client';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTransports, connectClient, repoRoot, startHttpServer, type RunningServer } from '../../helpers/toolport-process.js';
import { resultOf, textOf } from './helpers.js';

let server: RunningServer;

beforeAll(async () => {
  server = await startHttpServer(['examples']);
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

      beforeAll(async () => {
        client = await connectClient(era, era.startsWith('stdio') ? { serveArgs: ['examples'] } : { url: server.url });
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

      it('takes an order, tells the agent about it, and finds it again', async () => {
        const menu = await call('menu', {});
        expect(textOf(menu)).toMatch(/^Baked today: croissant €1\.80, /);
        const placed = await call('place-order', { order: { address: '12 Rue du Four, Paris', pastry: 'croissant', quantity: 3 } });
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
