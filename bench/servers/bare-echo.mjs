// The baseline: a bare MCP SDK v2 server (low-level Server, raw JSON Schema) with one
// echo tool, over stdio (serveStdio), Streamable HTTP (createMcpHandler on node:http, both
// eras) or legacy SSE (`--sse`: the SDK's frozen SSEServerTransport on node:http).
// `--tools N` offers N tools instead of one (for the tools/list benchmark).
import { createServer } from 'node:http';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { Server, createMcpHandler } from '@modelcontextprotocol/server';
import { SSEServerTransport } from '@modelcontextprotocol/server-legacy/sse';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { benchTools } from '../fixtures/many-tools.mjs';

const toolsFlag = process.argv.indexOf('--tools');
const tools =
  toolsFlag === -1
    ? [
        {
          name: 'echo',
          description: 'Echo the text back.',
          inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
        },
      ]
    : benchTools(Number(process.argv[toolsFlag + 1])).map(({ name, description, parameters }) => ({ name, description, inputSchema: parameters }));

function factory() {
  const server = new Server({ name: 'bare-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/list', () => ({ tools }));
  server.setRequestHandler('tools/call', (request) => ({
    content: [{ type: 'text', text: String(request.params.arguments?.text ?? '') }],
  }));
  return server;
}

function listen(http) {
  http.listen(0, '127.0.0.1', () => {
    process.stdout.write(`serving at http://127.0.0.1:${http.address().port}/mcp\n`);
  });
  process.on('SIGTERM', () => {
    http.closeAllConnections();
    http.close(() => process.exit(0));
  });
}

if (process.argv.includes('--sse')) {
  const sessions = new Map();
  listen(
    createServer(async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname === '/sse') {
        const transport = new SSEServerTransport('/messages', res);
        sessions.set(transport.sessionId, transport);
        res.on('close', () => sessions.delete(transport.sessionId));
        await factory().connect(transport);
      } else if (req.method === 'POST' && url.pathname === '/messages') {
        const transport = sessions.get(url.searchParams.get('sessionId'));
        if (transport) await transport.handlePostMessage(req, res);
        else res.writeHead(404).end();
      } else res.writeHead(404).end();
    }),
  );
} else if (process.argv.includes('--http')) {
  const handler = toNodeHandler(createMcpHandler(factory));
  listen(
    createServer((req, res) => {
      if (req.url?.startsWith('/mcp')) void handler(req, res);
      else res.writeHead(404).end();
    }),
  );
} else {
  serveStdio(factory);
}
