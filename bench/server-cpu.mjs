// Server CPU per call: the CPU time (user + system, from /proc) the server process spends per
// echo call, toolport vs a bare SDK v2 server, in alternating rounds of the same run.
// Wall-clock ratios on a shared 2-core machine move with the load; the CPU a server spends per
// call moves much less. Over stdio by default, TRANSPORT=http over Streamable HTTP,
// TRANSPORT=sse over legacy HTTP+SSE; ERA=modern pins 2026-07-28 (stdio and HTTP); BASE=<checkout> adds another build of toolport (e.g. the previous
// commit in a worktree) to the same rounds; N calls per round (default 5,000), R rounds
// (default 4), C calls in flight (default 1). TRANSPORT=http RAW=1 posts 2026-07-28 calls
// with node:http (keep-alive) instead of the SDK client, whose own cost per call is larger
// than the difference between the servers. Linux only.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client, SSEClientTransport, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { startHttp } from './servers/start-http.mjs';
const tick = 10_000; // µs per clock tick (CLK_TCK 100)
const cpuOf = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * tick; };
const root = fileURLToPath(new URL('..', import.meta.url));
const sse = process.env.TRANSPORT === 'sse';
const http = process.env.TRANSPORT === 'http';
const toolportAt = (dir) => ({
  tool: 'bench__echo',
  args: [`${dir}/bin/toolport.js`, 'serve', `${dir}/bench/fixtures/echo.mjs`, ...(sse || http ? ['--http', '--port', '0'] : ['--stdio']), '--log-level', 'silent'],
});
const targets = {
  bare: { tool: 'echo', args: [fileURLToPath(new URL('./servers/bare-echo.mjs', import.meta.url)), ...(sse ? ['--sse'] : http ? ['--http'] : [])] },
  toolport: toolportAt(root),
  ...(process.env.BASE && { base: toolportAt(process.env.BASE) }),
};
const n = Number(process.env.N ?? 5000);
const era = process.env.ERA === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {};
/** Just enough of a client for the loop below: tools/call as one raw 2026-07-28 POST. */
function rawClient(url) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let nextId = 0;
  const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'p', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
  const callTool = ({ name, arguments: args }) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: '2.0', id: nextId++, method: 'tools/call', params: { name, arguments: args, _meta: meta } });
      const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name, 'content-length': Buffer.byteLength(body) };
      const req = request(url, { method: 'POST', agent, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        res.on('end', () => (res.statusCode === 200 && text.includes('"result"') ? resolve() : reject(new Error(`${res.statusCode} ${text.slice(0, 200)}`))));
      });
      req.on('error', reject);
      req.end(body);
    });
  return { callTool, close: () => agent.destroy() };
}
const raw = http && process.env.RAW === '1';

const conns = {};
for (const [k, t] of Object.entries(targets)) {
  let client = new Client({ name: 'p', version: '1' }, era);
  let pid;
  let child;
  if (sse || http) {
    const started = await startHttp(t.args, { cwd: root, name: k });
    ({ child } = started);
    pid = child.pid;
    if (raw) client = rawClient(started.url);
    else await client.connect(sse ? new SSEClientTransport(new URL(started.url.replace(/\/mcp$/, '/sse'))) : new StreamableHTTPClientTransport(new URL(started.url)));
  } else {
    const transport = new StdioClientTransport({ command: process.execPath, args: t.args, cwd: root, stderr: 'inherit' });
    await client.connect(transport);
    pid = transport.pid;
  }
  for (let i = 0; i < Number(process.env.WARMUP ?? 3000); i++) await client.callTool({ name: t.tool, arguments: { text: 'x'.repeat(64) } });
  conns[k] = { client, pid, child, tool: t.tool };
}
const res = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
const names = Object.keys(targets);
for (let r = 0; r < Number(process.env.R ?? 4); r++) {
  // Rotate the order each round.
  for (const k of names.map((_, i) => names[(i + r) % names.length])) {
    const { client, pid, tool } = conns[k];
    const c0 = cpuOf(pid); const t0 = performance.now();
    // C calls in flight (default 1): C workers, each calling in turn until n calls are done.
    let next = 0;
    const worker = async () => {
      while (next++ < n) await client.callTool({ name: tool, arguments: { text: 'x'.repeat(64) } });
    };
    await Promise.all(Array.from({ length: Number(process.env.C ?? 1) }, worker));
    res[k].push({ cpu: (cpuOf(pid) - c0) / n, wall: (performance.now() - t0) * 1000 / n });
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (const k of Object.keys(res)) console.log(k.padEnd(9), 'server cpu µs/call median', med(res[k].map((x) => x.cpu)).toFixed(0), 'wall median', med(res[k].map((x) => x.wall)).toFixed(0), ' cpu rounds', res[k].map((x) => x.cpu.toFixed(0)).join(' '));
for (const c of Object.values(conns)) {
  await c.client.close();
  c.child?.kill('SIGTERM');
}
