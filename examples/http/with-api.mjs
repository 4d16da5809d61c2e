// Runs a command with the Trailhead example API beside it: starts the API on a free
// loopback port with a fresh secret, hands both to the command through the environment
// (TRAILHEAD_MANIFEST_URL, TRAILHEAD_SECRET), and stops the API when the command ends.
//
//   node examples/http/with-api.mjs node bin/toolport.js serve examples --config examples/http/toolport.yaml --http
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: node examples/http/with-api.mjs COMMAND [ARGS...]\n');
  process.exit(2);
}

const secret = process.env.TRAILHEAD_SECRET || randomBytes(24).toString('hex');
const apiPath = fileURLToPath(new URL('./trailhead-api.mjs', import.meta.url));
// stdout of this launcher belongs to the command (it may be an MCP stdio server); talk on stderr.
const api = spawn(process.execPath, [apiPath, '--port', '0'], {
  env: { ...process.env, TRAILHEAD_SECRET: secret },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let stopping = false;

const origin = await new Promise((resolve) => {
  let out = '';
  api.stdout.setEncoding('utf8').on('data', (chunk) => {
    out += chunk;
    const match = /listening (http:\/\/\S+)/.exec(out);
    if (match) resolve(match[1]);
  });
  api.once('exit', (code) => {
    process.stderr.write(`trailhead example API exited with ${code} before it listened\n`);
    process.exit(1);
  });
});
api.removeAllListeners('exit');
api.once('exit', (code) => {
  if (!stopping) process.stderr.write(`trailhead example API stopped unexpectedly (${code}); its tools will fail\n`);
});
process.stderr.write(`trailhead example API at ${origin} (pid ${api.pid})\n`);

const child = spawn(command, args, {
  env: { ...process.env, TRAILHEAD_MANIFEST_URL: `${origin}/carterplugin.json`, TRAILHEAD_SECRET: secret },
  stdio: 'inherit',
});
// On Ctrl+C the terminal signals the whole group, toolport included; a second SIGINT would make
// it exit without cleaning up, so it is always asked with SIGTERM (which it treats the same).
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    stopping = true;
    child.kill('SIGTERM');
  });
}
child.once('exit', (code, signal) => {
  stopping = true;
  api.kill('SIGTERM');
  api.once('exit', () => process.exit(code ?? (signal ? 1 : 0)));
  setTimeout(() => process.exit(code ?? 1), 3000).unref();
});
