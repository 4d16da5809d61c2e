// The python host's guard: network, files and processes are refused unless the plugin's
// config grants them, with a message naming the grant; granted, they work.
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallToolResult } from '@modelcontextprotocol/server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { callTool } from '../../helpers/call-tool.js';
import { createToolport, type Toolport } from '../../../src/toolport.js';
import { sandboxForTests } from '../../helpers/sandbox.js';

const plugin = fileURLToPath(new URL('../../fixtures/python/guarded.py', import.meta.url));

async function settle(toolport: Toolport, name: string, args: unknown = {}): Promise<CallToolResult> {
  return callTool(toolport, name, args);
}

function textOf(result: CallToolResult): string {
  return result.content.map((block) => (block.type === 'text' ? block.text : '')).join('\n');
}

describe('python adapter: grants guard', () => {
  const scratch = useTempDir('toolport-guard-', 'all');
  let server: Server;
  let port: number;
  const opened: Toolport[] = [];
  const load = async (extra: Record<string, unknown> = {}): Promise<Toolport> => {
    const toolport = await createToolport(parseConfig({ plugins: [{ path: plugin, ...sandboxForTests, ...extra }] }));
    opened.push(toolport);
    expect(toolport.diagnostics.filter((diagnostic) => diagnostic.level !== 'info' && !diagnostic.message.includes(': sandbox: off'))).toEqual([]);
    return toolport;
  };

  beforeAll(async () => {
    await writeFile(join(scratch.path, 'secret.txt'), 'top secret');
    server = createServer((socket) => socket.end('hello from tcp'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((toolport) => toolport.close()));
  });

  afterAll(() => {
    server?.close();
  });

  it('refuses network, files outside grants and processes by default, naming the grant', async () => {
    const toolport = await load();
    const connect = await settle(toolport, 'acme_guarded__connect', { port });
    expect(connect.isError).toBe(true);
    expect(textOf(connect)).toBe('PermissionError: toolport: network access is not granted to this plugin; to allow it, set in its config: grants: { network: true }');
    const read = await settle(toolport, 'acme_guarded__read', { path: join(scratch.path, 'secret.txt') });
    expect(textOf(read)).toBe(`PermissionError: toolport: reading ${join(scratch.path, 'secret.txt')} is not granted to this plugin; to allow it, set in its config: grants: { files: { ${scratch.path}: ro } }`);
    const write = await settle(toolport, 'acme_guarded__write', { path: join(scratch.path, 'out.txt') });
    expect(textOf(write)).toMatch(/^PermissionError: toolport: writing .*out\.txt is not granted .* grants: \{ files: \{ .*: rw \} \}$/);
    const run = await settle(toolport, 'acme_guarded__run');
    expect(textOf(run)).toBe('PermissionError: toolport: starting a process is not granted to this plugin; to allow it, set in its config: allowSubprocess: true');
  });

  it('a read-only grant allows reading, not writing', async () => {
    const toolport = await load({ grants: { files: { [scratch.path]: 'ro' } } });
    expect(textOf(await settle(toolport, 'acme_guarded__read', { path: join(scratch.path, 'secret.txt') }))).toBe('top secret');
    expect(textOf(await settle(toolport, 'acme_guarded__write', { path: join(scratch.path, 'out.txt') }))).toMatch(/^PermissionError: toolport: writing/);
  });

  it('granted, everything works', async () => {
    const toolport = await load({ grants: { network: true, files: { [scratch.path]: 'rw' } }, allowSubprocess: true });
    expect(textOf(await settle(toolport, 'acme_guarded__connect', { port }))).toBe('hello from tcp');
    expect(textOf(await settle(toolport, 'acme_guarded__write', { path: join(scratch.path, 'out.txt') }))).toBe('ok');
    expect(textOf(await settle(toolport, 'acme_guarded__read', { path: join(scratch.path, 'out.txt') }))).toBe('written');
    expect(textOf(await settle(toolport, 'acme_guarded__run'))).toBe('child ran');
  });
});
