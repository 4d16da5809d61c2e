// The baseline: a bare MCP SDK v2 server (low-level Server, raw JSON Schema) with one
// echo tool, over stdio (serveStdio) or HTTP (createMcpHandler on node:http).
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { Server, createMcpHandler } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';

const tool = {
  name: 'echo',
  description: 'Echo the text back.',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};

function factory() {
  const server = new Server({ name: 'bare-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', () => ({ tools: [tool] }));
  server.setRequestHandler('tools/call', (request) => ({
    content: [{ type: 'text', text: String(request.params.arguments?.text ?? '') }],
  }));
  return server;
}

if (process.argv.includes('--http')) {
  const handler = toNodeHandler(createMcpHandler(factory));
  const http = createServer((req, res) => {
    if (req.url?.startsWith('/mcp')) void handler(req, res);
    else res.writeHead(404).end();
  });
  http.listen(0, '127.0.0.1', () => {
    process.stdout.write(`serving at http://127.0.0.1:${http.address().port}/mcp\n`);
  });
  process.on('SIGTERM', () => http.close(() => process.exit(0)));
} else {
  serveStdio(factory);
}
