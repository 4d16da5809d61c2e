// SIGTERM with calls in flight: each call is stopped by the shutdown, answered as such (an
// isError result) before the transports close, and recorded so in the audit log, over
// Streamable HTTP 2026-07-28 (both answer forms) and over stdio.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { binPath, connectClient, repoRoot, serveConfig, startHttpServer } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const envelope = {
  [PROTOCOL_VERSION_META_KEY]: '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
const stoppedText = 'e2e__slow was stopped: the server is shutting down';

interface AuditLine {
  phase: string;
  callId: string;
  outcome?: string;
}

const auditLines = async (path: string): Promise<AuditLine[]> =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditLine);

describe('SIGTERM with calls in flight', () => {
  const dir = useTempDir('toolport-shutdown-');

  it('over HTTP 2026-07-28 each client gets its call\'s answer, as JSON or at the end of its event stream, and the audit says shutdown', async () => {
    const audit = join(dir.path, 'audit.jsonl');
    const http = await serveConfig([`audit: { path: ${JSON.stringify(audit)} }`, 'plugins:', `  - path: ${fixture}`]);
    try {
      const call = (id: number, stream: boolean): Promise<{ status: number; text: string }> =>
        fetch(`${http.url}/mcp`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'e2e__slow' },
          body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'e2e__slow', arguments: { steps: 100 }, _meta: { ...envelope, ...(stream && { progressToken: 'p' }) } } }),
        }).then(async (response) => ({ status: response.status, text: await response.text() }));
      const json = call(11, false);
      const streamed = call(12, true);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await http.stop()).toBe(0);
      const [first, second] = await Promise.all([json, streamed]);
      expect(first.status).toBe(200);
      expect(JSON.parse(first.text)).toMatchObject({ id: 11, result: { isError: true, content: [{ type: 'text', text: stoppedText }] } });
      expect(second.status).toBe(200);
      const last = second.text.trim().split('\n').filter((line) => line.startsWith('data: ')).at(-1) ?? '';
      expect(JSON.parse(last.slice('data: '.length))).toMatchObject({ id: 12, result: { isError: true, content: [{ type: 'text', text: stoppedText }] } });
      const ends = (await auditLines(audit)).filter((line) => line.phase === 'end');
      expect(ends.map((line) => [line.callId, line.outcome]).sort()).toEqual([
        ['11', 'shutdown'],
        ['12', 'shutdown'],
      ]);
    } finally {
      await http.stop();
    }
  });

  it('over legacy SSE the answer goes down the stream before it closes', async () => {
    const http = await startHttpServer([fixture]);
    try {
      const client = await connectClient('sse', { url: http.url });
      // One signal, at the first progress (a second would exit at once).
      let stopping: Promise<unknown> | undefined;
      const running = client.callTool({ name: 'e2e__slow', arguments: { steps: 100 } }, { onprogress: () => void (stopping ??= http.stop()) });
      running.catch(() => {});
      await expect(running).resolves.toMatchObject({ isError: true, content: [{ type: 'text', text: stoppedText }] });
      expect(await stopping).toBe(0);
      await client.close().catch(() => {});
    } finally {
      await http.stop();
    }
  });

  it('a call held in a tool_call hook when the signal comes does not reach its plugin afterwards', async () => {
    const touched = join(dir.path, 'touched');
    const audit = join(dir.path, 'audit.jsonl');
    await writeFile(
      join(dir.path, 'side.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        'export default {',
        "  manifest: { id: 'side', version: '1.0.0', tools: [{ name: 'touch', description: 'Writes a file.', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }, annotations: { readOnlyHint: true } }] },",
        "  async executeTool(name, args) { writeFileSync(args.path, 'ran'); return 'ok'; },",
        '};',
      ].join('\n'),
    );
    // A hook that holds every call for 1.5 s and does not watch any signal.
    await writeFile(join(dir.path, 'slow-hook.mjs'), "export default (host) => host.on('tool_call', () => new Promise((resolve) => setTimeout(resolve, 1500)));\n");
    const http = await serveConfig([`audit: { path: ${JSON.stringify(audit)} }`, 'hooks:', `  - { path: ${JSON.stringify(join(dir.path, 'slow-hook.mjs'))}, timeoutSeconds: 5 }`, 'plugins:', `  - path: ${join(dir.path, 'side.mjs')}`]);
    try {
      const answer = fetch(`${http.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'side__touch' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 31, method: 'tools/call', params: { name: 'side__touch', arguments: { path: touched }, _meta: envelope } }),
      }).then(async (response) => ({ status: response.status, text: await response.text() }));
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await http.stop()).toBe(0);
      // Answered at once, though its hook had more than a second to go.
      const { status, text } = await answer;
      expect(status).toBe(200);
      expect(JSON.parse(text)).toMatchObject({ id: 31, result: { isError: true, content: [{ type: 'text', text: 'side__touch was not run: the server is shutting down' }] } });
      expect(existsSync(touched)).toBe(false);
      const ends = (await auditLines(audit)).filter((line) => line.phase === 'end');
      expect(ends).toMatchObject([{ callId: '31', outcome: 'shutdown' }]);
    } finally {
      await http.stop();
    }
  });

  it.each(['2025-11-25', '2026-07-28'])('over stdio (%s) the call is answered on stdout before the exit, and the audit says shutdown', async (version) => {
    const audit = join(dir.path, 'audit.jsonl');
    const config = join(dir.path, 'toolport.yaml');
    await writeFile(config, `audit: { path: ${JSON.stringify(audit)} }\nplugins:\n  - path: ${fixture}\n`);
    const child = spawn(process.execPath, [binPath, 'serve', '--config', config, '--stdio', '--log-level', 'silent'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout });
    const received: { id?: number; result?: unknown }[] = [];
    lines.on('line', (line) => received.push(JSON.parse(line) as { id?: number }));
    // 'close', not 'exit': every line of stdout has been read by then.
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const modern = version === '2026-07-28';
    const meta = modern ? { _meta: envelope } : {};
    if (!modern) {
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } })}\n`);
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    }
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'e2e__slow', arguments: { steps: 100 }, ...meta } })}\n`);
    // The call runs (its start is in the audit) when the signal comes.
    for (let waited = 0; waited < 10_000; waited += 50) {
      const started = await auditLines(audit).catch(() => []);
      if (started.some((line) => line.phase === 'start')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(received.find((message) => message.id === 7)).toMatchObject({ result: { isError: true, content: [{ type: 'text', text: stoppedText }] } });
    const end = (await auditLines(audit)).find((line) => line.phase === 'end');
    expect(end).toMatchObject({ outcome: 'shutdown' });
  });
});
