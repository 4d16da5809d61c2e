// stdout belongs to the stdio transport: a plugin that prints (at import time, and inside a
// tool through process.stdout.write and console) does not reach the JSON-RPC stream; its
// text goes to stderr. Checked byte for byte on a raw stdio connection, and with a real client.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { binPath, repoRoot } from '../helpers/toolport-process.js';

const noisy = fileURLToPath(new URL('../fixtures/module/noisy.mjs', import.meta.url));

describe('stdout in stdio mode', () => {
  it('carries nothing but JSON-RPC messages; what a plugin prints goes to stderr', async () => {
    const child = spawn(process.execPath, [binPath, 'serve', noisy, '--stdio', '--log-level', 'warn'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const answered = new Promise<void>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('"id":2')) resolve();
      });
    });
    const send = (message: unknown): boolean => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'noisy__shout', arguments: { text: 'hi' } } });
    await answered;
    child.stdin.end();
    await new Promise((resolve) => child.once('exit', resolve));

    const lines = stdout.split('\n').filter(Boolean);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    expect(lines.map((line) => (JSON.parse(line) as { id?: number }).id)).toEqual([1, 2]);
    expect(JSON.parse(lines[1] ?? '')).toMatchObject({ result: { content: [{ type: 'text', text: 'HI' }] } });
    expect(stderr).toContain('noisy: printed at import');
    expect(stderr).toContain('noisy: written by the tool: hi');
    expect(stderr).toContain('noisy: console.info in the tool');
  });

  it('a real client lists and calls the noisy plugin without a hitch', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [binPath, 'serve', noisy, '--stdio', '--log-level', 'warn'],
      cwd: repoRoot,
      env: { ...(process.env as Record<string, string>) },
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const client = new Client({ name: 'toolport-test', version: '1.0.0' });
    const errors: Error[] = [];
    client.onerror = (error) => errors.push(error);
    await client.connect(transport);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['noisy__shout']);
      expect(await client.callTool({ name: 'noisy__shout', arguments: { text: 'again' } })).toMatchObject({ content: [{ type: 'text', text: 'AGAIN' }] });
      expect(errors).toEqual([]);
      // stderr is another pipe than the answer's: its text may arrive a moment after the answer.
      await expect.poll(() => stderr, { timeout: 5_000 }).toContain('noisy: written by the tool: again');
    } finally {
      await client.close();
    }
  });
});
