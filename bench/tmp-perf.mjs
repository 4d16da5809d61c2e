import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
const root = fileURLToPath(new URL('..', import.meta.url));
const which = process.env.WHICH ?? 'toolport';
const dir = process.env.DIR ?? root;
const t = which === 'bare'
  ? { tool: 'echo', args: ['--perf-basic-prof', `${root}bench/servers/bare-echo.mjs`] }
  : { tool: 'bench__echo', args: ['--perf-basic-prof', `${dir}/bin/toolport.js`, 'serve', `${root}bench/fixtures/echo.mjs`, '--stdio', '--log-level', 'silent'] };
const client = new Client({ name: 'p', version: '1' });
const transport = new StdioClientTransport({ command: process.execPath, args: t.args, cwd: root, stderr: 'inherit' });
await client.connect(transport);
for (let i = 0; i < 5000; i++) await client.callTool({ name: t.tool, arguments: { text: 'x'.repeat(64) } });
const tracer = spawn('perf', ['record', '-F', '5000', '-g', '-o', `/tmp/perf-${which}.data`, '-p', String(transport.pid)], { stdio: ['ignore', 'inherit', 'inherit'] });
await new Promise((r) => setTimeout(r, 800));
const n = 20000; const C = Number(process.env.C ?? 1);
let next = 0; await Promise.all(Array.from({ length: C }, async () => { while (next++ < n) await client.callTool({ name: t.tool, arguments: { text: "x".repeat(64) } }); }));
tracer.kill('SIGINT');
await new Promise((r) => tracer.on('exit', r));
await client.close();
