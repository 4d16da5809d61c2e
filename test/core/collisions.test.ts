// Two plugins with a tool of the same name are both reachable under distinct names; a
// third plugin whose tool would take an existing name is reported, not silently dropped.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { binPath, connectClient, runToolport } from '../helpers/toolport-process.js';

const run = promisify(execFile);
const folder = fileURLToPath(new URL('../fixtures/module/collide', import.meta.url));

describe('tool name collisions', () => {
  let client: Client;
  beforeAll(async () => {
    client = await connectClient('stdio', { serveArgs: [folder] });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('serves both same-named tools under distinct valid names, and keeps the third plugin\'s other tools', async () => {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toEqual(['alpha__only_in_a_first', 'alpha__only_in_c_third', 'alpha__search', 'beta__only_in_b_second', 'beta__search']);
    const a = await client.callTool({ name: 'alpha__search', arguments: { q: 'x' } });
    const b = await client.callTool({ name: 'beta__search', arguments: { q: 'y' } });
    expect(a.content).toEqual([{ type: 'text', text: 'a-first found x' }]);
    expect(b.content).toEqual([{ type: 'text', text: 'b-second found y' }]);
  });

  it('toolport check reports the colliding tool and exits 1', async () => {
    const failure = await run(process.execPath, [binPath, 'check', folder]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/tool name collision on "alpha__search": tool "search" of plugin "alpha" \(.*c-third\.mjs\)/);
    expect(failure?.stderr).toMatch(/give one of the plugins a different "id"/);
  });

  it('toolport list --json carries the diagnostic next to the tools (once: nothing in the log), and exits 1 like check', async () => {
    const { code, stdout, stderr } = await runToolport(['list', folder, '--json']);
    expect({ code, stderr }).toEqual({ code: 1, stderr: '' });
    const listed = JSON.parse(stdout) as { tools: { name: string }[]; diagnostics: { level: string; message: string }[] };
    expect(listed.tools.map((tool) => tool.name)).toContain('beta__search');
    expect(listed.diagnostics).toHaveLength(1);
    expect(listed.diagnostics[0]?.level).toBe('error');
    expect(listed.diagnostics[0]?.message).toContain('alpha__search');
  });
});
