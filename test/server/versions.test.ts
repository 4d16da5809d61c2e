// Older 2025-era protocol versions are negotiated as the client asks, over stdio and HTTP.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot, startHttpServer, type RunningServer } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const versions = ['2024-11-05', '2025-03-26', '2025-06-18', '2025-11-25'];
const initialize = (protocolVersion: string) => ({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion, capabilities: {}, clientInfo: { name: 'old-client', version: '0.1' } },
});

describe('protocol version negotiation', () => {
  let http: RunningServer;
  beforeAll(async () => {
    http = await startHttpServer([fixture]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  it.each(versions)('stdio answers %s with the same version and serves tools', async (version) => {
    const child = spawn(process.execPath, [binPath, 'serve', fixture, '--stdio', '--log-level', 'silent'], { cwd: repoRoot });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    try {
      child.stdin.write(`${JSON.stringify(initialize(version))}\n`);
      const init = JSON.parse(((await lines.next()).value as string) ?? '{}') as { result?: { protocolVersion?: string } };
      expect(init.result?.protocolVersion).toBe(version);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
      const list = JSON.parse(((await lines.next()).value as string) ?? '{}') as { result?: { tools?: unknown[] } };
      expect(list.result?.tools?.length).toBeGreaterThan(0);
    } finally {
      child.stdin.end();
      child.kill();
    }
  });

  it.each(versions)('Streamable HTTP answers %s with the same version', async (version) => {
    const response = await fetch(`${http.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(initialize(version)),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`"protocolVersion":"${version}"`);
  });
});
