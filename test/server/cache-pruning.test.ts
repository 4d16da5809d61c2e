// A serving toolport prunes its cache folder a few seconds after start: a real stdio server
// (the built CLI) over a cache holding a record nobody used for 40 days and one used today.
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { connectClient } from '../helpers/toolport-process.js';
import { waitFor } from '../helpers/processes.js';

const dir = useTempDir('toolport-prune-serve-');

beforeEach(async () => {
  await writeFile(join(dir.path, 'plugin.mjs'), "export default { manifest: { id: 'p', version: '1.0.0', tools: [{ name: 'ping', description: 'Pong.', parameters: { type: 'object' } }] }, executeTool: () => 'pong' };\n");
  await writeFile(join(dir.path, 'toolport.yaml'), 'plugins:\n  - path: ./plugin.mjs\n');
});

describe('toolport serve', () => {
  it('removes cache entries unused for 30 days a few seconds after start, and keeps the others', async () => {
    const cache = join(dir.path, 'cache');
    await mkdir(join(cache, 'catalogue'), { recursive: true });
    await writeFile(join(cache, 'catalogue', 'ancient.json'), '{}');
    await writeFile(join(cache, 'catalogue', 'recent.json'), '{}');
    const fortyDaysAgo = (Date.now() - 40 * 24 * 60 * 60 * 1000) / 1000;
    await utimes(join(cache, 'catalogue', 'ancient.json'), fortyDaysAgo, fortyDaysAgo);
    const client = await connectClient('stdio', { serveArgs: ['--config', join(dir.path, 'toolport.yaml')], env: { TOOLPORT_CACHE_DIR: cache, TOOLPORT_STATE_DIR: join(dir.path, 'state') } });
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['p__ping']);
      const left = await waitFor(() => readdir(join(cache, 'catalogue')), (files) => !files.includes('ancient.json'), 12_000);
      expect(left).not.toContain('ancient.json');
      expect(left).toContain('recent.json');
    } finally {
      await client.close();
    }
  }, 20_000);
});
