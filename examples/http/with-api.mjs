// Runs a command with the Trailhead example API beside it: starts the API on loopback port
// 8810 (TRAILHEAD_PORT; a free port when that one is taken) with a fresh secret, hands both to the command
// through the environment (TRAILHEAD_MANIFEST_URL, TRAILHEAD_SECRET), and stops the API when
// the command ends.
// Each run has its own API, so `npm start` and a client that launched its own copy over
// stdio do not share one.
//
//   node examples/http/with-api.mjs node bin/toolport.js serve --config examples/toolport.yaml --http
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
// The API holds our end of its stdin: if this launcher dies, even by SIGKILL, the API stops.
const startApi = (port) => {
  const child = spawn(process.execPath, [apiPath, '--port', String(port), '--stop-with-stdin'], {
    env: { ...process.env, TRAILHEAD_SECRET: secret },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /listening (http:\/\/\S+)/.exec(out);
      if (match) {
        child.removeAllListeners('exit');
        resolve({ api: child, origin: match[1] });
      }
    });
    child.once('exit', (code) => resolve({ exitCode: code }));
  });
};
// The port the example config names by default (8810; TRAILHEAD_PORT for another), so the API's
// URL, and with it the plugin's tool pins, stay the same from one start to the next; a free
// port when it is taken.
let started = await startApi(Number(process.env.TRAILHEAD_PORT || 8810));
if (started.exitCode === 3) started = await startApi(0);
if (!started.api) {
  process.stderr.write(`trailhead example API exited with ${started.exitCode} before it listened\n`);
  process.exit(1);
}
const { api, origin } = started;
let stopping = false;
api.once('exit', (code) => {
  if (!stopping) process.stderr.write(`trailhead example API stopped unexpectedly (${code}); its tools will fail\n`);
});
process.stderr.write(`trailhead example API at ${origin} (pid ${api.pid})\n`);

// TOOLPORT_LAUNCHER: the client lines toolport prints start it through this launcher too, so
// a client that starts its own toolport (Claude Desktop, over stdio) gets an API beside it.
const launcher = JSON.stringify([process.execPath, fileURLToPath(import.meta.url)]);
const child = spawn(command, args, {
  env: { ...process.env, TRAILHEAD_MANIFEST_URL: `${origin}/carterplugin.json`, TRAILHEAD_SECRET: secret, TOOLPORT_LAUNCHER: launcher },
  stdio: 'inherit',
});
process.stderr.write(`launcher (pid ${process.pid}) running ${command} (pid ${child.pid})\n`);
// On Ctrl+C the terminal signals the whole group, toolport included; a second SIGINT would make
// it exit without cleaning up, so it is always asked with SIGTERM (which it treats the same).
let asked = false;
const stop = () => {
  stopping = true;
  if (asked) return; // a second signal would make toolport skip its cleanup
  asked = true;
  child.kill('SIGTERM');
};
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, stop);
// `npm start` runs this under `sh -c`; a signal to sh alone would leave us running. An
// orphan is re-parented, so a changed parent pid means whoever started us is gone.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) stop();
}, 500).unref();
child.once('exit', (code, signal) => {
  stopping = true;
  api.kill('SIGTERM');
  api.once('exit', () => process.exit(code ?? (signal ? 1 : 0)));
  setTimeout(() => process.exit(code ?? 1), 3000).unref();
});
