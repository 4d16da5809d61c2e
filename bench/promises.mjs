// Promises, timers and other async resources made per call, counted exactly with async_hooks:
// one echo call of the module fixture (bench/fixtures/echo.mjs) through toolport's pipeline, in
// process (createToolport + callTool), after a warm-up. Unlike times, the count does not move
// with the machine's load, so a change to the hot path can be judged by it alone.
// Run after a build: `npm run build && node bench/promises.mjs [calls]`; BASE=<checkout> counts
// another build (e.g. the previous commit in a worktree) the same way.
import { createHook } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const calls = Number(process.argv[2] ?? 1000);
const fixture = fileURLToPath(new URL('./fixtures/echo.mjs', import.meta.url));
const builds = { toolport: fileURLToPath(new URL('..', import.meta.url)), ...(process.env.BASE && { base: process.env.BASE }) };

for (const [name, root] of Object.entries(builds)) {
  const { createToolport, parseConfig } = await import(join(root, 'dist/index.js'));
  const stateDir = mkdtempSync(join(tmpdir(), 'toolport-promises-'));
  const toolport = await createToolport(parseConfig({ plugins: [{ path: fixture }] }), { stateDir });
  for (let index = 0; index < 200; index++) await toolport.callTool('bench__echo', { text: 'x'.repeat(64) });
  const counts = new Map();
  const hook = createHook({ init: (_id, type) => counts.set(type, (counts.get(type) ?? 0) + 1) }).enable();
  for (let index = 0; index < calls; index++) await toolport.callTool('bench__echo', { text: 'x'.repeat(64) });
  hook.disable();
  await toolport.close();
  rmSync(stateDir, { recursive: true, force: true });
  // The loop's own await makes one promise per call.
  const perCall = [...counts].map(([type, count]) => `${type} ${(count / calls - (type === 'PROMISE' ? 1 : 0)).toFixed(2)}`).join(', ');
  process.stdout.write(`${name.padEnd(9)} per call: ${perCall}\n`);
}
