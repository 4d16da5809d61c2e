// The HTTP API the Carter manifest hello.json describes: POST /greet answers
// {"success": true, "data": {"greeting": ...}}. It accepts only requests that carry the
// secret token toolport sends (X-Carter-Plugin-Secret-Token).
//
//   HELLO_SECRET=change-me node hello-api.mjs      # listens on http://127.0.0.1:8811
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const secret = process.env.HELLO_SECRET || 'change-me';
const port = Number(process.env.HELLO_PORT || 8811);
const digest = (value) => createHash('sha256').update(value).digest();

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = createServer((req, res) => {
  const token = String(req.headers['x-carter-plugin-secret-token'] ?? '');
  if (!timingSafeEqual(digest(token), digest(secret))) return send(res, 401, { success: false, error: 'wrong secret token' });
  if (req.method !== 'POST' || req.url !== '/greet') return send(res, 404, { success: false, error: 'no such endpoint' });
  let body = '';
  req.setEncoding('utf8').on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const { data } = JSON.parse(body || '{}');
    send(res, 200, { success: true, data: { greeting: `Hello, ${data?.name}!` } });
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`hello API listening on http://127.0.0.1:${port}\n`));
