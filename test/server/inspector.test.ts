// The MCP Inspector CLI (inspector-cli 1.0.3, which runs on Node 20) against
// `toolport serve` over stdio and over HTTP: tools/list and tools/call succeed.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeBlocks } from '../helpers/readme.js';
import { binPath, repoRoot, startHttpServer, type RunningServer } from '../helpers/toolport-process.js';

const run = promisify(execFile);
const inspector = join(repoRoot, 'node_modules', '.bin', 'mcp-inspector-cli');
const examples = join(repoRoot, 'examples');
// inspector-cli 1.0.3 looks up its own version from the parent of its working directory.
const cwd = join(repoRoot, 'test');

async function inspect(target: string[], method: string[]): Promise<unknown> {
  const { stdout } = await run(inspector, ['--cli', ...target, '--method', ...method], { cwd, timeout: 60_000 });
  return JSON.parse(stdout) as unknown;
}

const stdioTarget = [process.execPath, binPath, 'serve', examples, '--stdio', '--log-level', 'warn'];

describe('MCP Inspector CLI', () => {
  let http: RunningServer;
  beforeAll(async () => {
    http = await startHttpServer([examples]);
  });
  afterAll(async () => {
    await http?.stop();
  });

  it('lists and calls over stdio', async () => {
    const list = (await inspect(stdioTarget, ['tools/list'])) as { tools: { name: string }[] };
    expect(list.tools.map((tool) => tool.name)).toContain('notebook__text_stats');
    const call = await inspect(stdioTarget, ['tools/call', '--tool-name', 'notebook__text_stats', '--tool-arg', 'text=One two. Three.']);
    expect(call).toMatchObject({ structuredContent: { words: 3, sentences: 2 } });
  });

  it('lists and calls over Streamable HTTP', async () => {
    const target = [`${http.url}/mcp`, '--transport', 'http'];
    const list = (await inspect(target, ['tools/list'])) as { tools: { name: string }[] };
    expect(list.tools.map((tool) => tool.name)).toContain('notebook__add_note');
    const call = await inspect(target, ['tools/call', '--tool-name', 'notebook__text_stats', '--tool-arg', 'text=Four words right here.']);
    expect(call).toMatchObject({ structuredContent: { words: 4, sentences: 1 } });
  });

  it("the README's Inspector command runs as written", async () => {
    const block = (await readmeBlocks()).find((candidate) => candidate.lang === 'sh' && candidate.text.includes('mcp-inspector-cli'));
    if (!block) throw new Error('no Inspector command in the README');
    const { stdout } = await run('sh', ['-c', block.text.trim()], { cwd: repoRoot, timeout: 60_000 });
    expect((JSON.parse(stdout) as { tools: { name: string }[] }).tools.map((tool) => tool.name)).toContain('notebook__text_stats');
  });

  it('lists and calls over legacy SSE', async () => {
    const target = [`${http.url}/sse`, '--transport', 'sse'];
    const list = (await inspect(target, ['tools/list'])) as { tools: { name: string }[] };
    expect(list.tools.length).toBeGreaterThan(0);
    const call = await inspect(target, ['tools/call', '--tool-name', 'notebook__find_notes', '--tool-arg', 'phrase=milk']);
    expect(call).toMatchObject({ content: [{ type: 'text' }] });
  });
});
