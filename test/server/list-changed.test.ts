// tools/list_changed: when a plugin's tool list changes, connected clients hear about it
// (2025-era: an unsolicited notification; 2026-07-28: on the subscriptions/listen stream).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tool } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { allTransports, connectClient, startHttpServer, type RunningServer } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
let http: RunningServer;
const dir = useTempDir('toolport-list-changed-', 'all');
let serveArgs: string[];

beforeAll(async () => {
  // A tool a plugin adds while serving is new to its pins: served with a warning here
  // (by default it would be quarantined until approved; see test/policy/pins.test.ts).
  await writeFile(join(dir.path, 'toolport.yaml'), `pins: { onNewTool: warn }\nplugins:\n  - path: ${fixture}\n`);
  serveArgs = ['--config', join(dir.path, 'toolport.yaml')];
  http = await startHttpServer(serveArgs);
});
afterAll(async () => {
  await http?.stop();
});

describe.each(allTransports)('over %s', (era) => {
  it('a plugin that adds a tool makes the client refresh its list', async () => {
    let notify: (tools: Tool[]) => void = () => {};
    const changed = new Promise<Tool[]>((resolve) => (notify = resolve));
    const client = await connectClient(
      era,
      { serveArgs, url: http.url },
      { listChanged: { tools: { debounceMs: 0, onChanged: (error, tools) => (error ? undefined : notify(tools ?? [])) } } },
    );
    try {
      const before = (await client.listTools()).tools.map((tool) => tool.name);
      const grown = await client.callTool({ name: 'e2e__grow', arguments: {} });
      expect(grown.isError).toBeFalsy();
      const after = await Promise.race([
        changed,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no tools/list_changed within 5 s')), 5_000)),
      ]);
      const added = after.map((tool) => tool.name).filter((name) => !before.includes(name));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(/^e2e__extra_\d+$/);
      const result = await client.callTool({ name: added[0]!, arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: `${added[0]!.slice('e2e__'.length)} ran` }]);
    } finally {
      await client.close();
    }
  });
});
