// tools/list is paginated in a deterministic order, over a real client: 1,000 per page by
// default (an ordinary catalogue in one round trip), `server.pageSize` per page when set.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { connectClient, type Era } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/many-tools.mjs', import.meta.url));
const namesOf = (count: number): string[] => Array.from({ length: count }, (_, index) => `many__tool_${String(index).padStart(4, '0')}`);
const allNames = namesOf(150);

const dir = useTempDir('toolport-pages-', 'all');
let config: string;
let thousandAndOne: string;
beforeAll(async () => {
  config = join(dir.path, 'toolport.yaml');
  await writeFile(config, `server: { pageSize: 100 }\nplugins:\n  - path: ${fixture}\n`);
  thousandAndOne = join(dir.path, 'thousand-and-one.yaml');
  // A state folder of its own: under the file's, the 851 tools more than before would be new tools of a pinned plugin (held back).
  await writeFile(thousandAndOne, `stateDir: ${join(dir.path, 'state')}\nplugins:\n  - path: ${fixture}\n    settings: { count: 1001 }\n`);
});

describe.each<Era>(['stdio', 'stdio-modern'])('tools/list pages over %s', (era) => {
  it('gives 100 tools, then the rest by cursor, sorted, with server.pageSize 100; a bad cursor is an error', async () => {
    const client = await connectClient(era, { serveArgs: ['--config', config] });
    try {
      // client.listTools() follows cursors itself; the raw request shows the pages.
      const page = (cursor?: string) => client.request({ method: 'tools/list', params: cursor === undefined ? {} : { cursor } });
      const first = await page();
      expect(first.tools).toHaveLength(100);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await page(first.nextCursor);
      expect(second.tools).toHaveLength(50);
      expect(second.nextCursor).toBeUndefined();
      expect([...first.tools, ...second.tools].map((tool) => tool.name)).toEqual(allNames);
      await expect(page('not-a-cursor')).rejects.toMatchObject({ code: -32602 });
    } finally {
      await client.close();
    }
  });

  it('gives all 150 in one page by default', async () => {
    const client = await connectClient(era, { serveArgs: [fixture] });
    try {
      const only = await client.request({ method: 'tools/list', params: {} });
      expect(only.tools.map((tool) => tool.name)).toEqual(allNames);
      expect(only.nextCursor).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('holds 1,000 tools in a page by default: the 1,001st comes by cursor', async () => {
    const client = await connectClient(era, { serveArgs: ['--config', thousandAndOne] });
    try {
      const first = await client.request({ method: 'tools/list', params: {} });
      expect(first.tools).toHaveLength(1000);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await client.request({ method: 'tools/list', params: { cursor: first.nextCursor } });
      expect(second.tools).toHaveLength(1);
      expect(second.nextCursor).toBeUndefined();
      expect([...first.tools, ...second.tools].map((tool) => tool.name)).toEqual(namesOf(1001));
    } finally {
      await client.close();
    }
  });
});
