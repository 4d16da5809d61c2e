// The one shape of an HTTP answer that refuses a request before any MCP server sees it: a
// status, and a JSON-RPC error with no id (the request's was not read, or is not answered).
import type { ServerResponse } from 'node:http';

/** Answers `res` with `status` and the JSON-RPC error `code`/`message` (and `data`); a response already begun is only ended. */
export function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string, headers: Record<string, string> = {}, data?: unknown): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message, ...(data !== undefined && { data }) }, id: null }));
}
