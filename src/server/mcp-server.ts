// MCP server instances on the SDK's low-level Server: tools/list (paginated, verbatim
// plugin schemas) and tools/call through the toolport pipeline. One hub makes them for
// every transport and tells long-lived connections when the tool list changes.
import type { McpRequestContext, McpServerFactory, ServerContext } from '@modelcontextprotocol/server';
import { CLIENT_INFO_META_KEY, ProtocolError, ProtocolErrorCode, Server, type CallToolResult, type ListToolsResult } from '@modelcontextprotocol/server';
import { ErrorCode, ToolportError } from '../core/errors.js';
import { compileGlobs, type GlobMatcher } from '../core/glob.js';
import type { CallContext, CallOptions } from '../core/tool.js';
import { errorToCallToolResult, toCallToolResult } from '../core/to-call-result.js';
import type { ExposedTool } from '../core/registry.js';
import type { Toolport } from '../toolport.js';
import { principalOf, toolScopeOf } from './auth.js';

export interface ServerHubOptions {
  name: string;
  version: string;
  /** Tools per tools/list page. */
  pageSize?: number;
}

export interface ServerHub {
  /** For entries that make one instance per request or connection (createMcpHandler). */
  readonly factory: McpServerFactory;
  /** An instance for a long-lived connection: it is told when the tool list changes. */
  createConnectionServer(context?: Partial<McpRequestContext>): Server;
  /** Listens for tool list changes (for transports that deliver them their own way). */
  onToolsChanged(listener: () => void): () => void;
  /** Connected long-lived instances right now. */
  readonly connectionCount: number;
  close(): Promise<void>;
}

const defaultPageSize = 100;

function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString('base64url');
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof parsed.o === 'number' && Number.isSafeInteger(parsed.o) && parsed.o >= 0) return parsed.o;
  } catch {
    // fall through to the error below
  }
  throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid cursor');
}

/** Builds the progress reporter of one request: only increasing values are sent. */
function createProgressReporter(ctx: ServerContext): CallOptions['progress'] {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return () => {};
  let last = -Infinity;
  return (progress, total, message) => {
    if (!Number.isFinite(progress) || progress <= last) return;
    last = progress;
    ctx.mcpReq
      .notify({
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress,
          ...(total !== undefined && { total }),
          ...(message !== undefined && { message }),
        },
      })
      .catch(() => {});
  };
}

function createLogSender(ctx: ServerContext): CallOptions['log'] {
  return (level, data) => {
    try {
      ctx.mcpReq.log(level, data).catch(() => {});
    } catch {
      // Logging is not available on this request's era; nothing to send.
    }
  };
}

/** Sampling through the client, when it declared the capability on a 2025-era connection. */
function createSampler(server: Server, ctx: ServerContext): CallOptions['sample'] {
  if (!server.getClientCapabilities()?.sampling) return undefined;
  return async (request, signal) => {
    const result = await ctx.mcpReq.requestSampling(
      {
        messages: [{ role: 'user', content: { type: 'text', text: request.prompt } }],
        maxTokens: request.maxTokens,
        ...(request.systemPrompt !== undefined && { systemPrompt: request.systemPrompt }),
      },
      { signal },
    );
    const blocks = Array.isArray(result.content) ? result.content : [result.content];
    return blocks.map((block) => (block.type === 'text' ? block.text : '')).join('');
  };
}

/** The client named in a 2026-07-28 request envelope, if it named itself. */
function clientInfoOf(ctx: ServerContext): { name: string; version: string } | undefined {
  const info = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_INFO_META_KEY];
  if (typeof info !== 'object' || info === null) return undefined;
  const { name, version } = info as { name?: unknown; version?: unknown };
  return typeof name === 'string' && typeof version === 'string' ? { name, version } : undefined;
}

export function createServerHub(toolport: Toolport, options: ServerHubOptions): ServerHub {
  const pageSize = options.pageSize ?? defaultPageSize;
  const connections = new Set<Server>();
  const scopeCache = new Map<string, GlobMatcher>();

  const scopeMatcher = (ctx: ServerContext): GlobMatcher | undefined => {
    const scope = toolScopeOf(ctx.http?.authInfo);
    if (!scope) return undefined;
    let match = scopeCache.get(scope.key);
    if (!match) {
      match = compileGlobs(scope.patterns);
      scopeCache.set(scope.key, match);
    }
    return match;
  };
  const visibleTools = (ctx: ServerContext): readonly ExposedTool[] => {
    const match = scopeMatcher(ctx);
    const all = toolport.listTools();
    return match ? all.filter((tool) => match(tool.name)) : all;
  };
  const isVisible = (ctx: ServerContext, name: string): boolean => scopeMatcher(ctx)?.(name) ?? true;

  function createServer(): Server {
    const server = new Server(
      { name: options.name, version: options.version },
      {
        capabilities: { tools: { listChanged: true }, logging: {} },
        cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'private' } },
      },
    );

    server.setRequestHandler('tools/list', (request, ctx): ListToolsResult => {
      const tools = visibleTools(ctx);
      const offset = decodeCursor(request.params?.cursor);
      const end = offset + pageSize;
      return {
        tools: tools.slice(offset, end).map((tool) => tool.mcpTool),
        ...(end < tools.length && { nextCursor: encodeCursor(end) }),
      };
    });

    server.setRequestHandler('tools/call', async (request, ctx): Promise<CallToolResult> => {
      const { name } = request.params;
      const principal = principalOf(ctx);
      // A tool outside the caller's scope does not exist for the caller.
      if (!isVisible(ctx, name)) {
        return errorToCallToolResult(new ToolportError(ErrorCode.ToolNotFound, `Unknown tool: ${name}`), name);
      }
      const clientInfo = server.getClientVersion() ?? clientInfoOf(ctx);
      const context: CallContext = {
        callId: String(ctx.mcpReq.id),
        principal,
        ...(ctx.sessionId !== undefined && { sessionId: ctx.sessionId }),
        ...(clientInfo && { client: { name: clientInfo.name, version: clientInfo.version } }),
      };
      try {
        const sample = createSampler(server, ctx);
        const outcome = await toolport.call(name, request.params.arguments, {
          signal: ctx.mcpReq.signal,
          progress: createProgressReporter(ctx),
          log: createLogSender(ctx),
          context,
          ...(sample && { sample }),
        });
        return toCallToolResult(outcome);
      } catch (error) {
        return errorToCallToolResult(error, name);
      }
    });
    return server;
  }

  const unsubscribe = toolport.onToolsChanged(() => {
    for (const server of connections) {
      server.notification({ method: 'notifications/tools/list_changed' }).catch(() => {});
    }
  });

  return {
    factory: () => createServer(),
    createConnectionServer() {
      const server = createServer();
      connections.add(server);
      const previous = server.onclose;
      server.onclose = () => {
        connections.delete(server);
        previous?.();
      };
      return server;
    },
    onToolsChanged: (listener) => toolport.onToolsChanged(listener),
    get connectionCount() {
      return connections.size;
    },
    async close() {
      unsubscribe();
      const closing = [...connections].map((server) => server.close().catch(() => {}));
      connections.clear();
      await Promise.all(closing);
    },
  };
}
