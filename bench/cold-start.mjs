// Cold start over stdio with the bundled examples (examples/toolport.yaml: module, wasm,
// python, command and http plugins; the Trailhead API runs beside, started once): spawn →
// initialized → first tools/list, and → the whole catalogue (a plugin that joins late is
// announced with list_changed), against a bare SDK v2 server's spawn → first tools/list in
// the same run. Caches are warm (one unmeasured start first). BENCH_COLD starts (default 7).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = fileURLToPath(new URL('../bin/toolport.js', import.meta.url));
const bare = fileURLToPath(new URL('./servers/bare-echo.mjs', import.meta.url));
const api = fileURLToPath(new URL('../examples/http/trailhead-api.mjs', import.meta.url));
const starts = Number(process.env.BENCH_COLD ?? 7);
const expectedTools = Number(process.env.BENCH_EXPECTED_TOOLS ?? 0);

const secret = randomBytes(24).toString('hex');
const apiProcess = spawn(process.execPath, [api, '--port', '0'], { env: { ...process.env, TRAILHEAD_SECRET: secret }, stdio: ['ignore', 'pipe', 'inherit'] });
const origin = await new Promise((resolve) => {
  let out = '';
  apiProcess.stdout.setEncoding('utf8').on('data', (chunk) => {
    out += chunk;
    const match = /listening (http:\/\/\S+)/.exec(out);
    if (match) resolve(match[1]);
  });
});
// A state folder of its own: warm caches from the warm-up start, and no pins file grown by other runs.
const stateDir = mkdtempSync(join(tmpdir(), 'toolport-cold-start-'));
const env = { ...process.env, TRAILHEAD_MANIFEST_URL: `${origin}/carterplugin.json`, TRAILHEAD_SECRET: secret, TOOLPORT_STATE_DIR: stateDir, TOOLPORT_CACHE_DIR: join(stateDir, 'cache') };

async function coldStart(args, fullCount) {
  const started = performance.now();
  const client = new Client({ name: 'bench', version: '1.0.0' });
  let changed;
  const whenChanged = new Promise((resolve) => (changed = resolve));
  client.setNotificationHandler('notifications/tools/list_changed', () => changed());
  await client.connect(new StdioClientTransport({ command: process.execPath, args, cwd: root, env, stderr: 'ignore' }));
  const first = await client.request({ method: 'tools/list', params: {} });
  const firstMs = performance.now() - started;
  let count = first.tools.length;
  // Until the whole catalogue is listed (or 10 s).
  const deadline = Date.now() + 10_000;
  while (fullCount && count < fullCount && Date.now() < deadline) {
    await Promise.race([whenChanged, new Promise((resolve) => setTimeout(resolve, 20))]);
    count = (await client.request({ method: 'tools/list', params: {} })).tools.length;
  }
  const fullMs = performance.now() - started;
  await client.close();
  return { firstMs, firstCount: first.tools.length, fullMs, count };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const toolportArgs = [bin, 'serve', '--config', 'examples/toolport.yaml', '--stdio', '--log-level', 'silent'];
// Warm up caches (wasm transpile cache, module compile cache) and learn the catalogue size.
const warm = await coldStart(toolportArgs, expectedTools);
const full = Math.max(expectedTools, warm.count);
await coldStart([bare], 0);
const rows = { bare: [], toolport: [] };
for (let index = 0; index < starts; index += 1) {
  rows.bare.push(await coldStart([bare], 0));
  rows.toolport.push(await coldStart(toolportArgs, full));
}
apiProcess.kill();
rmSync(stateDir, { recursive: true, force: true });
const b = median(rows.bare.map((r) => r.firstMs));
const t = median(rows.toolport.map((r) => r.firstMs));
const tFull = median(rows.toolport.map((r) => r.fullMs));
process.stdout.write(`bare SDK server        spawn → first tools/list  ${b.toFixed(0)} ms\n`);
process.stdout.write(
  `toolport, examples     spawn → first tools/list  ${t.toFixed(0)} ms (${rows.toolport.map((r) => r.firstCount).join('/')} tools)  → all ${full} tools ${tFull.toFixed(0)} ms\n`,
);
process.stdout.write(`toolport − bare: first list +${(t - b).toFixed(0)} ms (${(t / b).toFixed(2)}x)\n`);
