// Starts a server process (node with `args`) that prints "serving at http://…/mcp" when it
// listens (toolport serve --http, or the bare server with --http/--sse), and resolves with the
// child and that URL.
import { spawn } from 'node:child_process';

export function startHttp(args, { cwd, name = 'server' } = {}) {
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      const match = /serving at (http:\/\/\S+\/mcp)/.exec(out);
      if (match) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}
