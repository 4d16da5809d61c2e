// A call's context (call id, principal) and options (its signal, its progress reporter, …) are
// taken when the call starts, so an in-process caller that reuses and changes its objects for
// its next call does not change one still running; the MCP server's own (frozen) are used as
// they are.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createToolport, type Toolport } from '../../src/toolport.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { readLines } from '../helpers/toolport-process.js';

const fixture = fileURLToPath(new URL('../fixtures/module/e2e.mjs', import.meta.url));
const temp = useTempDir('toolport-call-context-');
let toolport: Toolport | undefined;
afterEach(async () => {
  await toolport?.close();
  toolport = undefined;
});

describe('the call context', () => {
  it('is what the caller gave when the call started, even if the caller changes its object meanwhile', async () => {
    const audit = join(temp.path, 'audit.jsonl');
    toolport = await createToolport(parseConfig({ plugins: [{ path: fixture }], audit: { path: audit } }), { stateDir: temp.path });
    const context = { callId: 'req-1', principal: 'alice' };
    const first = toolport.callTool('e2e__slow', { steps: 2 }, { context });
    context.callId = 'req-2';
    context.principal = 'bob';
    const second = toolport.callTool('e2e__slow', { steps: 1 }, { context });
    await Promise.all([first, second]);
    await toolport.close();
    toolport = undefined;
    const records = (await readLines(audit)).map((line) => JSON.parse(line) as { phase: string; callId: string; principal: string });
    // Both lines of each call (its start and its end) carry the context it started with.
    expect(records.map(({ phase, callId, principal }) => `${phase} ${callId} ${principal}`).sort()).toEqual(['end req-1 alice', 'end req-2 bob', 'start req-1 alice', 'start req-2 bob']);
  });

  it('reports progress to the reporter the caller gave when the call started', async () => {
    toolport = await createToolport(parseConfig({ plugins: [{ path: fixture }] }), { stateDir: temp.path });
    // A tool_call hook makes the plugin start a turn after the call did.
    toolport.on('tool_call', async () => {});
    const seen: Record<'first' | 'second', number[]> = { first: [], second: [] };
    const options = { progress: (progress: number) => seen.first.push(progress) };
    const running = toolport.callTool('e2e__slow', { steps: 2 }, options);
    options.progress = (progress: number) => seen.second.push(progress);
    await running;
    expect(seen).toEqual({ first: [1, 2], second: [] });
  });

  it('is cancelled by the signal the caller gave when the call started', async () => {
    toolport = await createToolport(parseConfig({ plugins: [{ path: fixture }] }), { stateDir: temp.path });
    toolport.on('tool_call', async () => {});
    const first = new AbortController();
    const options = { signal: first.signal };
    const started = Date.now();
    const running = toolport.callTool('e2e__slow', { steps: 100 }, options);
    options.signal = new AbortController().signal;
    setTimeout(() => first.abort(), 100);
    const result = await running;
    expect(result).toMatchObject({ isError: true });
    expect(JSON.stringify(result)).toMatch(/e2e__slow was cancelled/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
