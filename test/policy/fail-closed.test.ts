// Fail closed, end to end: hostile arguments are refused before anything runs and still
// leave an audit line and a log line; a call whose plugin takes the whole server down leaves
// its `start` line behind; a tool that does not say whether it changes anything asks first.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, connectClient, readLines, serveConfig, type ConfiguredServer } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';

const crashy = fileURLToPath(new URL('../fixtures/policy/crashy.mjs', import.meta.url));

const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' };

/** Opens a 2025-era session by hand and returns a poster bound to it. */
async function openSession(url: string): Promise<(body: string) => Promise<string>> {
  const opened = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
  const session = opened.headers.get('mcp-session-id') ?? '';
  await opened.text();
  const post = async (body: string): Promise<string> => (await fetch(`${url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': session }, body })).text();
  await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  return post;
}

/** `{"a":{"a":…"x"…}}` nested `depth` levels, written as text (no recursion needed to build it). */
function deepArguments(depth: number): string {
  return `${'{"a":'.repeat(depth)}"x"${'}'.repeat(depth)}`;
}

async function auditRecords(path: string): Promise<Record<string, unknown>[]> {
  return (await readLines(path)).map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('arguments over the limits', () => {
  let http: ConfiguredServer;
  beforeAll(async () => {
    http = await serveConfig([
      'audit: { path: ./audit.jsonl, includeArguments: true }',
      'defaults: { maxArgumentBytes: 65536 }',
      'plugins:',
      `  - path: ${crashy}`,
    ]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  it('a 100,000-deep argument is refused before the plugin runs, with an audit line and a log line', async () => {
    const post = await openSession(http.url);
    const answer = await post(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"crashy__echo","arguments":${deepArguments(100_000)}}}`);
    expect(answer).toContain('"isError":true');
    expect(answer).toContain('nest more than 64 levels deep (defaults.maxArgumentDepth)');
    const records = await auditRecords(join(http.dir, 'audit.jsonl'));
    const refused = records.find((record) => record.callId === '7');
    expect(refused).toMatchObject({ phase: 'end', tool: 'crashy__echo', outcome: 'invalid_arguments', args: '[not recorded: over the argument limits]' });
    expect(refused?.argsDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(records.some((record) => record.callId === '7' && record.phase === 'start')).toBe(false);
    expect(http.stderr()).toMatch(/"callId":"7".*nest more than 64 levels deep/);
    // The server is fine: a normal call still answers.
    const client = await connectClient('http-2026', { url: http.url });
    try {
      expect(textOf(await client.callTool({ name: 'crashy__echo', arguments: { hello: 'world' } }))).toBe('got 17 bytes');
    } finally {
      await client.close();
    }
  });

  it('arguments larger than defaults.maxArgumentBytes are refused the same way', async () => {
    const client = await connectClient('http-2025', { url: http.url });
    try {
      const result = await client.callTool({ name: 'crashy__echo', arguments: { blob: 'x'.repeat(70_000) } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/are \d+ bytes as JSON, more than 65536 \(defaults\.maxArgumentBytes\)/);
    } finally {
      await client.close();
    }
  });
});

describe('a call that takes the server down', () => {
  it('leaves the start line it wrote before the plugin ran', async () => {
    const http = await serveConfig(['audit: { path: ./audit.jsonl }', 'plugins:', `  - path: ${crashy}`]);
    try {
      const post = await openSession(http.url);
      await post('{"jsonrpc":"2.0","id":"doomed","method":"tools/call","params":{"name":"crashy__die","arguments":{}}}').catch(() => '');
      await new Promise<void>((resolve) => {
        if (http.process.exitCode !== null || http.process.signalCode !== null) resolve();
        else http.process.once('exit', () => resolve());
      });
      expect(http.process.signalCode).toBe('SIGKILL');
      const records = (await readFile(join(http.dir, 'audit.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(records).toEqual([expect.objectContaining({ phase: 'start', callId: 'doomed', tool: 'crashy__die', decision: 'allow' })]);
    } finally {
      await http.stop();
    }
  });
});

describe('tools that do not say whether they change anything', () => {
  const run = promisify(execFile);
  const bakery = fileURLToPath(new URL('../../examples/bakery.wasm', import.meta.url));
  const examplesConfig = fileURLToPath(new URL('../../examples/toolport.yaml', import.meta.url));
  const cli = (args: string[]) => run(process.execPath, [binPath, ...args], { env: { ...process.env, TRAILHEAD_SECRET: 'unused', TRAILHEAD_MANIFEST_URL: 'http://127.0.0.1:9/x.json' } });

  it('ask for approval by default: policy explain, list and check say so and why', async () => {
    const explained = await cli(['policy', 'explain', 'bakery__place-order', '{}', bakery]);
    expect(explained.stdout).toBe('bakery__place-order: ask\n  because policy.unknownSideEffects: ask (the tool does not say whether it changes anything)\n');
    const listed = await cli(['list', bakery]);
    expect(listed.stdout).toMatch(/^bakery__place-order +Orders pastries .*\[asks: policy\.unknownSideEffects: ask/m);
    const checked = await cli(['check', bakery]);
    expect(checked.stderr).toContain('info: bakery__place-order asks for approval before it runs (policy.unknownSideEffects: ask');
  });

  it('run freely once the config names them read-only; the others still ask', async () => {
    const menu = await cli(['policy', 'explain', 'bakery__menu', '--config', examplesConfig]);
    expect(menu.stdout).toBe('bakery__menu: allow\n  because policy.default: allow (the tool is read-only)\n');
    const order = await cli(['policy', 'explain', 'bakery__place-order', '--config', examplesConfig]);
    expect(order.stdout).toMatch(/^bakery__place-order: ask\n/);
    const allowed = await cli(['policy', 'explain', 'bakery__place-order', bakery, '--config', writeUnknownAllowed()]);
    expect(allowed.stdout).toMatch(/^bakery__place-order: allow\n  because policy\.unknownSideEffects: allow/);
  });
});

/** A config that lets tools of unknown side effects run (policy.unknownSideEffects: allow). */
function writeUnknownAllowed(): string {
  const file = join(tmpdir(), `toolport-unknown-allow-${process.pid}.yaml`);
  writeFileSync(file, 'policy: { unknownSideEffects: allow }\n');
  return file;
}
