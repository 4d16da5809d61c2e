// tools/list is paginated (100 per page) in a deterministic order, over a real client.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connectClient, type Era } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/many-tools.mjs', import.meta.url));

describe.each<Era>(['stdio', 'stdio-modern'])('tools/list pages over %s', (era) => {
  it('gives 100 tools, then the rest by cursor, sorted; a bad cursor is an error', async () => {
    const client = await connectClient(era, { serveArgs: [fixture] });
    try {
      // client.listTools() follows cursors itself; the raw request shows the pages.
      const page = (cursor?: string) => client.request({ method: 'tools/list', params: cursor === undefined ? {} : { cursor } });
      const first = await page();
      expect(first.tools).toHaveLength(100);
      expect(first.nextCursor).toEqual(expect.any(String));
      const second = await page(first.nextCursor);
      expect(second.tools).toHaveLength(50);
      expect(second.nextCursor).toBeUndefined();
      const names = [...first.tools, ...second.tools].map((tool) => tool.name);
      expect(names).toEqual(Array.from({ length: 150 }, (_, index) => `many__tool_${String(index).padStart(3, '0')}`));
      await expect(page('not-a-cursor')).rejects.toMatchObject({ code: -32602 });
    } finally {
      await client.close();
    }
  });
});
