// The same end-to-end checks through a real SDK v2 client over every transport and era:
// stdio (spawning the built CLI), Streamable HTTP 2025-11-25 and 2026-07-28, legacy SSE.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { allTransports, connectClient, startHttpServer, type RunningServer } from '../helpers/toolport-process.js';
import { textOf, waitForFile } from '../helpers/wait.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));



let http: RunningServer;
const scratch = useTempDir('toolport-e2e-', 'all');

beforeAll(async () => {
  http = await startHttpServer([fixture]);
});

afterAll(async () => {
  await http?.stop();
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
    const marker = join(scratch.path, `cancel-${era}`);
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

describe('the legacy SSE wire, as a hand-written client sees it', () => {
  /** Opens GET /sse and reads events off it: the first is where to post. */
  async function openStream(): Promise<{ endpoint: string; next: () => Promise<{ event: string; data: string }>; close: () => void }> {
    const controller = new AbortController();
    const response = await fetch(`${http.url}/sse`, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffered = '';
    const next = async (): Promise<{ event: string; data: string }> => {
      while (!buffered.includes('\n\n')) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffered += value;
      }
      const end = buffered.indexOf('\n\n');
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const field = (name: string): string => block.split('\n').find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
      return { event: field('event'), data: field('data') };
    };
    const first = await next();
    expect(first.event).toBe('endpoint');
    return { endpoint: new URL(first.data, http.url).href, next, close: () => controller.abort() };
  }

  const post = (url: string, body: unknown): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('a posted request is accepted with 202 and answered on the stream, in the session the endpoint names', async () => {
    const stream = await openStream();
    try {
      expect(stream.endpoint).toMatch(/\/messages\?sessionId=[0-9a-f-]{36}$/);
      const accepted = await post(stream.endpoint, {
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'by-hand', version: '1' } },
      });
      expect(accepted.status).toBe(202);
      const answer = await stream.next();
      expect(answer.event).toBe('message');
      expect(JSON.parse(answer.data)).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2024-11-05' } });
    } finally {
      stream.close();
    }
  });

  it('a body that is not one JSON-RPC message is a 400 with a JSON-RPC error, and the session goes on', async () => {
    const stream = await openStream();
    try {
      for (const body of [{ hello: 'world' }, [{ jsonrpc: '2.0', id: 1, method: 'ping' }], { jsonrpc: '1.0', id: 1, method: 'ping' }]) {
        const refused = await post(stream.endpoint, body);
        expect(refused.status).toBe(400);
        expect(await refused.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32600 } });
      }
      expect((await post(stream.endpoint, { jsonrpc: '2.0', id: 'p', method: 'ping' })).status).toBe(202);
      expect(JSON.parse((await stream.next()).data)).toEqual({ jsonrpc: '2.0', id: 'p', result: {} });
    } finally {
      stream.close();
    }
  });

  it('once the stream is closed, its session is gone: a POST is a 404', async () => {
    const stream = await openStream();
    stream.close();
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 404; attempt += 1) {
      status = (await post(stream.endpoint, { jsonrpc: '2.0', id: 1, method: 'ping' })).status;
      if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(status).toBe(404);
  });
});
