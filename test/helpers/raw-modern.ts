// A raw 2026-07-28 request over Streamable HTTP, as an attacker or a hand-written client sends
// one: every field of the envelope is the caller's own (no SDK client to correct it), and the
// answer is the JSON body or the last `data:` line of an event stream.

export interface RawReply {
  status: number;
  result?: {
    resultType?: string;
    isError?: boolean;
    content?: { type: string; text?: string }[];
    messages?: unknown[];
    inputRequests?: Record<string, { method: string; params: { message: string } }>;
    requestState?: string;
  };
  error?: { code: number; message: string };
}

export interface RawRequest {
  method?: 'tools/call' | 'prompts/get';
  name: string;
  args: Record<string, unknown>;
  /** A bearer token, when the server wants one. */
  token?: string | undefined;
  /** What a retry carries: the state of the round and the answers. */
  retry?: { requestState?: string; inputResponses?: Record<string, unknown> };
  /** The name the client gives itself; default `raw`. */
  clientName?: string;
}

let rawId = 0;

/** POSTs one 2026-07-28 request to `${baseUrl}/mcp`; the client declares form elicitation. */
export async function rawModernRequest(baseUrl: string, request: RawRequest): Promise<RawReply> {
  const { method = 'tools/call', name, args, token, retry = {}, clientName = 'raw' } = request;
  rawId += 1;
  const body = {
    jsonrpc: '2.0',
    id: `${clientName}-${rawId}`,
    method,
    params: {
      name,
      arguments: args,
      ...retry,
      _meta: {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: clientName, version: '1.0.0' },
        'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
      },
    },
  };
  const response = await fetch(`${baseUrl}/mcp`, {
    method: 'POST',
    headers: {
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-method': method,
      'mcp-name': name,
      'mcp-protocol-version': '2026-07-28',
      ...(token !== undefined && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('text/event-stream')
    ? (text.split('\n').filter((line) => line.startsWith('data:')).at(-1)?.slice(5) ?? '{}')
    : text;
  return { status: response.status, ...(JSON.parse(json) as Omit<RawReply, 'status'>) };
}
