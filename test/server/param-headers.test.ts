// SEP-2243 custom headers over 2026-07-28 HTTP: a tool whose input schema marks `region`
// with `x-mcp-header: Region` is called with an `Mcp-Param-Region` header that must match
// the body (Base64-encoded where the client marks it); a missing or different header is
// refused with -32020 and HTTP 400 before the tool runs.
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveConfig, type ConfiguredServer } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const asks = fileURLToPath(new URL('../fixtures/module/asks.mjs', import.meta.url));

let http: ConfiguredServer;
let client: Client;
const sent: { body: string; headers: Record<string, string> }[] = [];

beforeAll(async () => {
  http = await serveConfig(['plugins:', `  - path: ${asks}`]);
  const recordingFetch: typeof fetch = (input, init) => {
    sent.push({ body: typeof init?.body === 'string' ? init.body : '', headers: Object.fromEntries(new Headers(init?.headers).entries()) });
    return fetch(input, init);
  };
  client = new Client({ name: 'headers', version: '1.0.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${http.url}/mcp`), { fetch: recordingFetch }));
  // The client learns which parameters travel as headers from tools/list.
  const { tools } = await client.listTools();
  expect(tools.find((tool) => tool.name === 'asks__forecast')?.inputSchema).toMatchObject({ properties: { region: { 'x-mcp-header': 'Region' } } });
}, 60_000);

afterAll(async () => {
  await client?.close();
  await http?.stop();
});

const lastCall = (): { body: string; headers: Record<string, string> } => {
  const call = sent.filter((request) => request.body.includes('"tools/call"')).at(-1);
  if (!call) throw new Error('no tools/call was recorded');
  return call;
};

async function post(headers: Record<string, string>, body: string): Promise<{ status: number; json: { error?: { code: number; message: string }; result?: unknown } }> {
  const response = await fetch(`${http.url}/mcp`, { method: 'POST', headers, body });
  const text = await response.text();
  const data = text.startsWith('{') ? text : (text.split('\n').find((line) => line.startsWith('data: '))?.slice(6) ?? '{}');
  return { status: response.status, json: JSON.parse(data) as { error?: { code: number; message: string } } };
}

describe('SEP-2243 Mcp-Param headers', () => {
  it('a header that matches the body is accepted (plain and Base64)', async () => {
    expect(textOf(await client.callTool({ name: 'asks__forecast', arguments: { region: 'north', days: 2 } }))).toBe('sunny in north for 2 days');
    expect(lastCall().headers['mcp-param-region']).toBe('north');
    expect(textOf(await client.callTool({ name: 'asks__forecast', arguments: { region: 'Zürich' } }))).toBe('sunny in Zürich for 1 days');
    expect(lastCall().headers['mcp-param-region']).toMatch(/^=\?base64\?/);
    const replayed = await post(lastCall().headers, lastCall().body);
    expect(replayed.status).toBe(200);
  });

  it('a header that differs from the body is refused with -32020 and HTTP 400', async () => {
    await client.callTool({ name: 'asks__forecast', arguments: { region: 'north' } });
    const { headers, body } = lastCall();
    const mismatched = await post({ ...headers, 'mcp-param-region': 'south' }, body);
    expect(mismatched.status).toBe(400);
    expect(mismatched.json.error?.code).toBe(-32020);
    const badBase64 = await post({ ...headers, 'mcp-param-region': '=?base64?c291dGg=?=' }, body);
    expect(badBase64.status).toBe(400);
    expect(badBase64.json.error?.code).toBe(-32020);
  });

  it('a missing header is refused with -32020 and HTTP 400', async () => {
    await client.callTool({ name: 'asks__forecast', arguments: { region: 'north' } });
    const { headers, body } = lastCall();
    const without = { ...headers };
    delete without['mcp-param-region'];
    const missing = await post(without, body);
    expect(missing.status).toBe(400);
    expect(missing.json.error?.code).toBe(-32020);
  });
});
