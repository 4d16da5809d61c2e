// The same end-to-end checks through a real SDK v2 client over every transport and era:
// stdio (spawning the built CLI), Streamable HTTP 2025-11-25 and 2026-07-28, legacy SSE.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allTransports, connectClient, startHttpServer, type RunningServer } from '../helpers/toolport-process.js';
import { textOf, waitForFile } from '../helpers/wait.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));



let http: RunningServer;
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'toolport-e2e-'));
  http = await startHttpServer([fixture]);
});

afterAll(async () => {
  await http?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe.each(allTransports)('over %s', (era) => {
  let client: Client;

  beforeAll(async () => {
    client = await connectClient(era, { serveArgs: [fixture], url: http.url });
  });

  afterAll(async () => {
    await client?.close();
  });

  it('negotiates the expected protocol era', () => {
    expect(client.getNegotiatedProtocolVersion()).toBe(era === 'http-2026' ? '2026-07-28' : '2025-11-25');
  });

  it('lists the tools with their schemas unchanged', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['e2e__weather', 'e2e__fail', 'e2e__slow', 'e2e__grow']));
    const weather = tools.find((tool) => tool.name === 'e2e__weather');
    expect(weather?.inputSchema).toEqual({
      type: 'object',
      properties: { city: { type: 'string', minLength: 1 }, days: { type: 'integer', minimum: 1, maximum: 7 } },
      required: ['city'],
      additionalProperties: false,
    });
    expect(weather?.outputSchema).toMatchObject({ required: ['city', 'days', 'summary'] });
    expect(weather?._meta?.['toolport/origin']).toEqual({ plugin: 'e2e', tool: 'weather' });
  });

  it('calls a tool and gets structuredContent', async () => {
    const result = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Lisbon', days: 3 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ city: 'Lisbon', days: 3, summary: '3 day(s) of sun in Lisbon' });
    expect(JSON.parse(textOf(result))).toEqual(result.structuredContent);
  });

  it('a plugin failure is an isError result the model can read', async () => {
    const result = await client.callTool({ name: 'e2e__fail', arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toBe('The weather service is down.\nFallback suggestions:\n- try again later');
  });

  it('arguments that fail the schema are refused before the plugin runs', async () => {
    const result = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Oslo', days: 9, wind: true } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/Invalid arguments for e2e__weather: .*\/days: must be <= 7/);
    expect(textOf(result)).toMatch(/unexpected property "wind"/);
  });

  it('an unknown tool is a JSON-RPC error', async () => {
    await expect(client.callTool({ name: 'e2e__nope', arguments: {} })).rejects.toMatchObject({ code: -32602 });
  });

  it('progress notifications reach the client', async () => {
    const seen: { progress: number; total?: number }[] = [];
    const result = await client.callTool(
      { name: 'e2e__slow', arguments: { steps: 4 } },
      { onprogress: (progress) => seen.push(progress) },
    );
    expect(textOf(result)).toBe('done after 4 steps');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen[0]).toMatchObject({ progress: 1, total: 4 });
    for (let index = 1; index < seen.length; index += 1) expect(seen[index]!.progress).toBeGreaterThan(seen[index - 1]!.progress);
  });

  it('cancelling a long call reaches the plugin, and the connection keeps working', async () => {
    const marker = join(scratch, `cancel-${era}`);
    const controller = new AbortController();
    // Abort once the server reports progress, so the call is surely running there.
    const call = client.callTool(
      { name: 'e2e__slow', arguments: { steps: 200, marker } },
      { signal: controller.signal, onprogress: () => controller.abort() },
    );
    await expect(call).rejects.toThrow();
    expect(await waitForFile(marker, 5_000)).toBe('aborted');
    const next = await client.callTool({ name: 'e2e__weather', arguments: { city: 'Porto' } });
    expect(next.structuredContent).toMatchObject({ city: 'Porto', days: 1 });
  });
});
