// MCP server instances on the SDK's low-level Server: tools/list (paginated, verbatim
// plugin schemas), tools/call through the toolport pipeline, prompts plugins offer, and
// per-session instructions. One hub makes them for every transport and tells long-lived
// connections when the tool list changes.
import type { McpRequestContext, McpServerFactory, ServerContext } from '@modelcontextprotocol/server';
import { randomUUID } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  CLIENT_INFO_META_KEY,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  McpServer,
  ProtocolErrorCode,
  type Server,
  type AuthInfo,
  type ServerOptions,
  createRequestStateCodec,
  type RequestStateCodec,
  type CallToolResult,
  type CreateMessageResult,
  type GetPromptResult,
  type InitializeRequest,
  type InitializeResult,
  type InputRequiredResult,
  type ListPromptsResult,
  type ListToolsResult,
  type Tool,
} from '@modelcontextprotocol/server';
import type { ApprovalChannel } from '../policy/approval-types.js';
import { roundTripStateTtlSeconds, type RoundTripChannel, type RoundTripState } from '../policy/round-trip.js';
import { compileGlobs, type GlobMatcher } from '../core/glob.js';
import { noProgress } from '../core/progress.js';
import type { CallContext, CallOptions } from '../core/tool.js';
import type { ExposedTool } from '../core/registry.js';
import type { SessionTransport } from '../policy/hooks.js';
import type { Toolport } from '../toolport.js';
import type { RequestScope } from '../telemetry/index.js';
import { principalOf, principalOfAuth, toolScopeOf } from './auth.js';
import { keepPageJson } from './serialize.js';
import { createCatalogIndexCache, parseSearchArguments, searchResult, searchToolDefinition, searchToolName } from './tool-search.js';

/** The SDK's high-level server, answering its SEP-2243 header check from toolport's tools. */
class ToolportMcpServer extends McpServer {
  readonly #schemaOf: (name: string) => Record<string, unknown> | undefined;
  constructor(info: { name: string; version: string }, options: ServerOptions, schemaOf: (name: string) => Record<string, unknown> | undefined) {
    super(info, options);
    this.#schemaOf = schemaOf;
  }
  override toolInputSchemaJson(name: string): Record<string, unknown> | undefined {
    return this.#schemaOf(name);
  }
}

export interface ServerHubOptions {
  name: string;
  version: string;
  /** Tools per tools/list page. */
  pageSize?: number;
}

/** Who opened a long-lived connection, for its session events. */
export interface ConnectionInfo {
  transport: SessionTransport;
  /** The authenticated principal (HTTP); `local` on stdio. */
  principal?: string | undefined;
  /** Fires when the connection's calls must stop although it stays open to answer them (stdin ended). */
  signal?: AbortSignal | undefined;
}

export interface ServerHub {
  /** For entries that make one instance per request or connection (createMcpHandler). */
  readonly factory: McpServerFactory;
  /**
   * An instance for a long-lived connection: it is told when the tool list changes, and
   * reports session_start (once the client is known) and session_end to the hooks.
   */
  createConnectionServer(info?: ConnectionInfo): Server;
  /** The same for serveStdio; a 2026-07-28 connection gets its instructions up front. */
  createStdioServer(context: McpRequestContext, info?: ConnectionInfo): Promise<Server>;
  /** Listens for tool list changes (for transports that deliver them their own way). */
  onToolsChanged(listener: () => void): () => void;
  /** Listens for changes of the skills served, which connected servers hear from the skills catalog itself. */
  onSkillsChanged(listener: () => void): () => void;
  /** Connected long-lived instances right now. */
  readonly connectionCount: number;
  close(): Promise<void>;
}

const defaultPageSize = 1000;

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

/** One page of a deterministic list, with the cursor of the next page when there is one. */
function paginate<T>(items: readonly T[], cursor: string | undefined, pageSize: number): { page: readonly T[]; nextCursor?: string } {
  const offset = decodeCursor(cursor);
  const end = offset + pageSize;
  return { page: items.slice(offset, end), ...(end < items.length && { nextCursor: encodeCursor(end) }) };
}

/**
 * Pages of tool lists that stay as they are (a list changes by being replaced): the same
 * array for the same page every time, so the wires write its JSON once (serialize.ts). Only
 * the pages the server's own cursors lead to are kept; a cursor made up by a client (any
 * offset) gets its slice made afresh, so it cannot make the server keep more than the list.
 */
export function createToolPages(pageSize: number): (tools: readonly Tool[], cursor: string | undefined) => { page: readonly Tool[]; nextCursor?: string } {
  const kept = new WeakMap<readonly Tool[], Map<number, readonly Tool[]>>();
  const keptPage = (tools: readonly Tool[], offset: number, end: number): readonly Tool[] => {
    let pages = kept.get(tools);
    if (!pages) {
      pages = new Map();
      kept.set(tools, pages);
    }
    let page = pages.get(offset);
    if (!page) {
      page = offset === 0 && end >= tools.length ? tools : tools.slice(offset, end);
      keepPageJson(page);
      pages.set(offset, page);
    }
    return page;
  };
  return (tools, cursor) => {
    const offset = decodeCursor(cursor);
    const end = offset + pageSize;
    const ours = offset % pageSize === 0 && (offset === 0 || offset < tools.length);
    return { page: ours ? keptPage(tools, offset, end) : tools.slice(offset, end), ...(end < tools.length && { nextCursor: encodeCursor(end) }) };
  };
}

/** Builds the progress reporter of one request: only increasing values are sent. */
function createProgressReporter(ctx: ServerContext): CallOptions['progress'] {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return noProgress;
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

/** The client named in a 2026-07-28 request envelope, if it named itself. */
function clientInfoOf(ctx: ServerContext): { name: string; version: string } | undefined {
  const info = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_INFO_META_KEY];
  if (typeof info !== 'object' || info === null) return undefined;
  const { name, version } = info as { name?: unknown; version?: unknown };
  return typeof name === 'string' && typeof version === 'string' ? { name, version } : undefined;
}

/**
 * Who is calling, over which session, from which client: for tools/call and prompts/get.
 * Frozen: the pipeline then takes it as it is instead of copying it (pipeline/call.ts).
 */
function callContextOf(server: Server, ctx: ServerContext): CallContext {
  const client = server.getClientVersion() ?? clientInfoOf(ctx);
  const context: { -readonly [K in keyof CallContext]: CallContext[K] } = { callId: String(ctx.mcpReq.id), principal: principalOf(ctx) };
  if (ctx.sessionId !== undefined) context.sessionId = ctx.sessionId;
  if (client) context.client = frozenClientOf(server, client);
  return Object.freeze(context);
}

/** The last client each server instance was called by, frozen: made again only when it changes. */
const frozenClients = new WeakMap<Server, Readonly<{ name: string; version: string }>>();

function frozenClientOf(server: Server, client: { name: string; version: string }): Readonly<{ name: string; version: string }> {
  const kept = frozenClients.get(server);
  if (kept?.name === client.name && kept.version === client.version) return kept;
  const frozen = Object.freeze({ name: client.name, version: client.version });
  frozenClients.set(server, frozen);
  return frozen;
}

/** Whether a request is of the 2026-07-28 era (no server→client requests, input_required instead). */
function isModern(server: Server): boolean {
  const version = server.getNegotiatedProtocolVersion();
  return version === undefined || version >= '2026-07-28';
}

function modernClientCapabilities(ctx: ServerContext): Record<string, unknown> | undefined {
  const capabilities = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY];
  return typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>) : undefined;
}

/**
 * The round trip of one 2026-07-28 request. A class: most calls ask nothing, so what the
 * client declared is read only when a question needs it, and `mint` is a method, not a
 * closure made for every call.
 */
class RequestRoundTrip implements RoundTripChannel {
  readonly responses: RoundTripChannel['responses'];
  readonly state: unknown;
  constructor(
    private readonly ctx: ServerContext,
    private readonly codec: RequestStateCodec<RoundTripState>,
  ) {
    this.responses = ctx.mcpReq.inputResponses;
    this.state = ctx.mcpReq.requestState<RoundTripState>();
  }
  mint(state: RoundTripState): Promise<string> {
    return this.codec.mint(state, this.ctx);
  }
  get capabilities(): RoundTripChannel['capabilities'] {
    const declared = modernClientCapabilities(this.ctx);
    return { elicitation: declared?.elicitation !== undefined, sampling: declared?.sampling !== undefined };
  }
}

/** What a client that cannot be asked anything gives a call (one object for all of them). */
const noClientRequests: Partial<CallOptions['client']> = Object.freeze({});

/**
 * Elicitation and sampling for plugins, on connections that can carry a server→client
 * request (2025-era stdio, sessionful HTTP, SSE) to a client that declared the capability.
 */
function createClientRequests(server: Server, ctx: ServerContext): Partial<CallOptions['client']> {
  if (isModern(server)) return noClientRequests;
  const capabilities = server.getClientCapabilities();
  if (!capabilities?.elicitation && !capabilities?.sampling) return noClientRequests;
  // On the call's own stream: over HTTP with sessions, a request not tied to the call goes to
  // the optional GET stream, and without one the SDK drops it (the prompt was lost).
  const options = { signal: ctx.mcpReq.signal, relatedRequestId: ctx.mcpReq.id };
  return {
    ...(capabilities?.elicitation && { elicit: (params) => ctx.mcpReq.elicitInput(params, options) }),
    ...(capabilities?.sampling && {
      sample: async (params) => (await ctx.mcpReq.requestSampling(params, options)) as CreateMessageResult,
    }),
  };
}

/**
 * Answers a 2025-era initialize with instructions computed for that session. The SDK reads
 * instructions from a field set at construction, but the client is known only now, so the
 * field is set just before the SDK's own initialize handling runs.
 */
function withSessionInstructions(server: Server, compute: (request: InitializeRequest, ctx: ServerContext) => Promise<string | undefined>): void {
  const internals = server as unknown as {
    _instructions?: string;
    _oninitialize?: (request: InitializeRequest) => Promise<InitializeResult>;
  };
  const initialize = internals._oninitialize?.bind(server);
  if (!initialize) return;
  server.setRequestHandler('initialize', async (request, ctx) => {
    internals._instructions = await compute(request, ctx);
    return initialize(request);
  });
}

export function createServerHub(toolport: Toolport, options: ServerHubOptions): ServerHub {
  const pageSize = options.pageSize ?? defaultPageSize;
  const connections = new Set<Server>();
  // Signs the requestState of every round trip (approvals and plugins' questions); bound to
  // the method and the principal. The key is shared by every replica when the state is, so a
  // retry may reach any of them.
  const stateCodec = createRequestStateCodec<RoundTripState>({
    key: toolport.requestStateKey,
    ttlSeconds: roundTripStateTtlSeconds,
    bind: (ctx) => `${ctx.mcpReq.method}\u0000${principalOf(ctx)}`,
  });
  const scopeCache = new Map<string, GlobMatcher>();

  /** The caller's token scope as a matcher (compiled once per scope), or undefined for no scope. */
  const scopeMatcherOf = (authInfo: AuthInfo | undefined): GlobMatcher | undefined => {
    const scope = toolScopeOf(authInfo);
    if (!scope) return undefined;
    let match = scopeCache.get(scope.key);
    if (!match) {
      match = compileGlobs(scope.patterns);
      scopeCache.set(scope.key, match);
    }
    return match;
  };
  const scopeMatcher = (ctx: ServerContext): GlobMatcher | undefined => scopeMatcherOf(ctx.http?.authInfo);
  const visibleTools = (ctx: ServerContext): readonly ExposedTool[] => {
    const match = scopeMatcher(ctx);
    const all = toolport.listTools(principalOf(ctx));
    return match ? all.filter((tool) => match(tool.name)) : all;
  };
  const isVisible = (ctx: ServerContext, name: string): boolean => scopeMatcher(ctx)?.(name) ?? true;

  // Discovery: in search mode tools/list shows the always-visible tools and search_tools;
  // every tool stays callable by name. One index per catalog version, shared by everyone.
  const discovery = toolport.config.discovery;
  const alwaysVisible = compileGlobs(discovery.alwaysVisible);
  const indexOf = createCatalogIndexCache();
  const searchMode = (visible: readonly ExposedTool[]): boolean =>
    discovery.mode === 'search' || (discovery.mode === 'auto' && visible.length > discovery.autoAbove);
  const searchServed = (): boolean => discovery.mode !== 'list' && !toolport.registry.get(searchToolName);
  // The definitions of a list of tools: the same array for the same list, so its pages are too.
  const definitions = new WeakMap<readonly ExposedTool[], readonly Tool[]>();
  const definitionsOf = (visible: readonly ExposedTool[]): readonly Tool[] => {
    let tools = definitions.get(visible);
    if (!tools) {
      tools = visible.map((tool) => tool.mcpTool);
      definitions.set(visible, tools);
    }
    return tools;
  };
  const toolPages = createToolPages(pageSize);
  const listFor = (ctx: ServerContext): readonly Tool[] => {
    const visible = visibleTools(ctx);
    if (!searchServed() || !searchMode(visible)) return definitionsOf(visible);
    const listed = visible.filter((tool) => alwaysVisible(tool.name));
    const description = indexOf(toolport.registry.tools).describe(visible, listed.length);
    return [searchToolDefinition(description), ...listed.map((tool) => tool.mcpTool)];
  };
  const searchTools = (ctx: ServerContext, args: unknown): CallToolResult => {
    const parsed = parseSearchArguments(args);
    if ('error' in parsed) return { content: [{ type: 'text', text: parsed.error }], isError: true };
    const principal = principalOf(ctx);
    const scope = scopeMatcher(ctx);
    // The caller's own view: out of scope, denied outright or quarantined never comes back.
    const found = indexOf(toolport.registry.tools).search(parsed.query, parsed.limit, (tool) => (scope?.(tool.name) ?? true) && toolport.isListed(tool, principal));
    return searchResult(found);
  };

  /** How this call's client can be asked for approval on a 2025-era connection (2026-07-28 asks through the round trip). */
  function approvalChannel(server: Server, ctx: ServerContext, sessionKey: string | undefined, client: Partial<CallOptions['client']>): ApprovalChannel {
    if (isModern(server)) return {};
    // The approval form goes the way a plugin's own elicitation would.
    return { sessionKey: sessionKey ?? ctx.sessionId, ...(client.elicit && { elicit: client.elicit }) };
  }

  /** A 2026-07-28 request's round trip: the answers and state a retry brings, and what the client can answer. */
  function roundTripChannel(server: Server, ctx: ServerContext): RoundTripChannel | undefined {
    return isModern(server) ? new RequestRoundTrip(ctx, stateCodec) : undefined;
  }

  const instructionsFor = async (
    principal: string,
    sessionId: string | undefined,
    client: { name: string; version: string } | undefined,
    signal?: AbortSignal,
  ): Promise<string | undefined> => {
    try {
      return await toolport.instructionsFor(
        { principal, ...(sessionId !== undefined && { sessionId }), ...(client && { client: { name: client.name, version: client.version } }) },
        signal,
      );
    } catch {
      return undefined;
    }
  };

  const telemetry = toolport.telemetry;

  /** Runs one request inside its telemetry scope (a SERVER span, the operation histogram); as it is when telemetry is off. */
  function observed<R>(
    method: string,
    target: string | undefined,
    server: Server,
    ctx: ServerContext,
    transport: SessionTransport,
    run: (scope: RequestScope | undefined) => Promise<R> | R,
  ): Promise<R> | R {
    if (!telemetry.active) return run(undefined);
    const scope = telemetry.request({
      method,
      target,
      requestId: ctx.mcpReq.id,
      protocolVersion: server.getNegotiatedProtocolVersion() ?? ((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[PROTOCOL_VERSION_META_KEY] as string | undefined),
      // The MCP session id (2025-era HTTP sessions, SSE); stdio has none.
      sessionId: ctx.sessionId,
      transport,
      meta: ctx.mcpReq._meta,
      headers: ctx.http?.req?.headers,
    });
    if (!scope) return run(undefined);
    return (async () => {
      try {
        const result = await run(scope);
        scope.end({ result });
        return result;
      } catch (error) {
        scope.end({ error });
        throw error;
      }
    })();
  }

  /** A long-lived connection's key (scopes its approvals), its start hook, and its session id for events. */
  interface Connection {
    transport: SessionTransport;
    sessionKey: string;
    onRequest: () => void;
    session: () => string;
    signal?: AbortSignal | undefined;
  }

  /**
   * The input schema of a tool this caller may see, for the SDK's SEP-2243 check of
   * `Mcp-Param-*` headers against the body (2026-07-28 HTTP), made before the call is dispatched.
   */
  const schemaFor =
    (authInfo: AuthInfo | undefined) =>
    (name: string): Record<string, unknown> | undefined => {
      if (scopeMatcherOf(authInfo)?.(name) === false) return undefined;
      // The same test as tools/list (not denied outright, not quarantined), by name: no list scan per call.
      const tool = toolport.registry.get(name);
      return tool && toolport.isListed(tool, principalOfAuth(authInfo)) ? tool.mcpTool.inputSchema : undefined;
    };

  function createServer(
    connection?: Connection,
    instructions?: string,
    authInfo?: AuthInfo,
    transport: SessionTransport = connection?.transport ?? 'http',
  ): McpServer {
    const sessionKey = connection?.sessionKey;
    const onRequest = connection?.onRequest;
    const stop = connection?.signal;
    // The high-level server only carries what the SDK wires to it (the SEP-2243 header check,
    // the skills extension); every handler is set on its low-level server.
    const mcp = new ToolportMcpServer(
      { name: options.name, version: options.version },
      {
        capabilities: { logging: {} },
        cacheHints: { 'tools/list': { ttlMs: 60_000, cacheScope: 'private' } },
        requestState: { verify: (state, ctx) => stateCodec.verify(state, ctx) },
        ...(instructions !== undefined && { instructions }),
      },
      schemaFor(authInfo),
    );
    const server = mcp.server;
    server.registerCapabilities({ tools: { listChanged: true }, prompts: {} });
    withSessionInstructions(server, (request, ctx) => instructionsFor(principalOf(ctx), ctx.sessionId, request.params.clientInfo, stop));

    server.setRequestHandler('prompts/list', (request, ctx) => observed('prompts/list', undefined, server, ctx, transport, (): ListPromptsResult => {
      const prompts = toolport.listPrompts().filter((prompt) => isVisible(ctx, prompt.name));
      const { page, nextCursor } = paginate(prompts, request.params?.cursor, pageSize);
      return { prompts: page.map((prompt) => prompt.mcpPrompt), ...(nextCursor !== undefined && { nextCursor }) };
    }));

    server.setRequestHandler('prompts/get', (request, ctx) => observed('prompts/get', request.params.name, server, ctx, transport, async (): Promise<GetPromptResult> => {
      const { name } = request.params;
      if (!isVisible(ctx, name)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown prompt: ${name}`);
      return toolport.getPrompt(name, request.params.arguments ?? {}, { signal: ctx.mcpReq.signal, stop, context: callContextOf(server, ctx) });
    }));

    server.setRequestHandler('tools/list', (request, ctx) => {
      onRequest?.();
      return observed('tools/list', undefined, server, ctx, transport, (): ListToolsResult => {
        const { page, nextCursor } = toolPages(listFor(ctx), request.params?.cursor);
        // The kept page itself, not a copy: its JSON is written once (serialize.ts).
        return { tools: page as Tool[], ...(nextCursor !== undefined && { nextCursor }) };
      });
    });

    server.setRequestHandler('tools/call', (request, ctx) => {
      onRequest?.();
      return observed('tools/call', request.params.name, server, ctx, transport, (scope) => callTool(request.params, ctx, scope));
    });

    // Not async: it hands on the pipeline's promise (an async function returning a promise
    // would cost each call two more turns of the microtask queue). The SDK runs handlers
    // inside a promise, so a throw here still answers as a rejection would.
    function callTool(
      params: { name: string; arguments?: Record<string, unknown> | undefined },
      ctx: ServerContext,
      scope: RequestScope | undefined,
    ): Promise<CallToolResult | InputRequiredResult> | CallToolResult {
      const { name } = params;
      if (name === searchToolName && searchServed()) return searchTools(ctx, params.arguments);
      // A tool outside the caller's scope does not exist for the caller.
      if (!isVisible(ctx, name)) throw new ProtocolError(ProtocolErrorCode.InvalidParams, `Unknown tool: ${name}`);
      const client = createClientRequests(server, ctx);
      // Frozen: the pipeline then takes it as it is instead of copying it (pipeline/call.ts).
      return toolport.callTool(name, params.arguments, Object.freeze({
        signal: ctx.mcpReq.signal,
        stop,
        progress: createProgressReporter(ctx),
        log: createLogSender(ctx),
        client,
        approval: approvalChannel(server, ctx, sessionKey, client),
        roundTrip: roundTripChannel(server, ctx),
        session: connection?.session() ?? ctx.sessionId,
        context: callContextOf(server, ctx),
        scope,
      }));
    }
    toolport.skills?.attach(mcp);
    return mcp;
  }

  function connectionServer(info: ConnectionInfo = { transport: 'stdio' }, instructions?: string): Server {
    // A stdio or SSE connection has no MCP session id; this key scopes its approvals.
    const sessionKey = `connection-${randomUUID()}`;
    const principal = info.principal ?? (info.transport === 'stdio' ? 'local' : 'anonymous');
    let startedAt: number | undefined;
    // The session id the calls of this connection report: the transport's, else our key.
    let session = sessionKey;
    // Reported once the client is known: after initialize, or at the first request of a
    // 2026-07-28 connection, which has no handshake.
    const start = (): void => {
      if (startedAt !== undefined) return;
      startedAt = performance.now();
      toolport.telemetry.sessionStarted(info.transport);
      session = server.transport?.sessionId ?? sessionKey;
      const client = server.getClientVersion();
      toolport.hooks.notify({
        type: 'session_start',
        time: new Date().toISOString(),
        session,
        principal,
        transport: info.transport,
        client: client ? `${client.name}/${client.version}` : undefined,
        protocolVersion: server.getNegotiatedProtocolVersion(),
      });
    };
    const server = createServer({ transport: info.transport, sessionKey, onRequest: start, session: () => session, signal: info.signal }, instructions).server;
    server.oninitialized = start;
    connections.add(server);
    const previous = server.onclose;
    let ended = false;
    server.onclose = () => {
      // A transport may report its close more than once (the legacy SSE one does, when the
      // response closes and again when the server is closed); the session ends once.
      if (ended) return;
      ended = true;
      connections.delete(server);
      toolport.endSession(sessionKey);
      if (startedAt !== undefined) {
        toolport.telemetry.sessionEnded(info.transport, performance.now() - startedAt);
        toolport.hooks.notify({
          type: 'session_end',
          time: new Date().toISOString(),
          session,
          principal,
          transport: info.transport,
          durationMs: Math.round(performance.now() - startedAt),
        });
      }
      previous?.();
    };
    return server;
  }

  const unsubscribe = toolport.onToolsChanged(() => {
    for (const server of connections) {
      server.notification({ method: 'notifications/tools/list_changed' }).catch(() => {});
    }
  });

  return {
    // A 2026-07-28 client reads instructions from server/discover; only that request (and a
    // stdio connection, made once) pays for computing them.
    factory: async (ctx) => {
      const http = ctx.requestInfo !== undefined;
      const transport: SessionTransport = http ? 'http' : 'stdio';
      if (ctx.era !== 'modern' || (http && ctx.requestInfo?.headers.get('mcp-method') !== 'server/discover')) return createServer(undefined, undefined, ctx.authInfo, transport);
      return createServer(undefined, await instructionsFor(http ? principalOfAuth(ctx.authInfo) : 'local', undefined, undefined), ctx.authInfo, transport);
    },
    createConnectionServer: (info) => connectionServer(info),
    async createStdioServer(ctx, info = { transport: 'stdio', principal: 'local' }) {
      // 2025-era connections get theirs at initialize, when the client has named itself.
      const instructions = ctx.era === 'modern' ? await instructionsFor('local', undefined, undefined, info.signal) : undefined;
      return connectionServer(info, instructions);
    },
    onToolsChanged: (listener) => toolport.onToolsChanged(listener),
    onSkillsChanged: (listener) => toolport.onSkillsChanged(listener),
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
