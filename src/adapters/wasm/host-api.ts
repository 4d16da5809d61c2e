// The Asterai host API a plugin imports (`asterai:host/api@0.1.0`): its WIT, used to check
// a component's imports at load, and its implementation inside a plugin worker. Functions
// that need state shared across workers (kv, embeddings) or the client (query-agent) make
// a synchronous request to the main thread; the rest answer in the worker.
import { throwGuestError } from './values.js';

/** The interface as Asterai's 2025 cloud runtime provided it (reconstructed from its bindings). */
export const asteraiHostWit = `package asterai:host@0.1.0;

interface api {
  record embedding-similarity-score { score: f32, payload: list<tuple<string, string>> }
  record query { content: string, user-id: option<string> }
  record plugin-context { query: query, app-id: string }
  record query-agent-args { query: string, agent-id: string, query-key: option<string> }
  record query-agent-response { content: string }

  embedding-store: func(content: string, collection-name: string);
  embedding-search: func(query: string, collection-name: string) -> list<embedding-similarity-score>;
  kv-get: func(key: string, user-id: option<string>) -> option<string>;
  kv-set: func(key: string, value: option<string>, user-id: option<string>);
  get-env: func(key: string) -> option<string>;
  get-context: func() -> plugin-context;
  send-response-to-agent: func(response: string);
  query-agent: func(args: query-agent-args) -> result<query-agent-response, string>;
}
`;

export const asteraiHostPackage = { namespace: 'asterai', name: 'host', interface: 'api' } as const;

/** `asterai:host/api@0.1.x` is what toolport provides; other versions are a different API. */
export function isProvidedHostVersion(version: string | undefined): boolean {
  return version !== undefined && /^0\.1\.\d+$/.test(version);
}

/** Requests a worker makes to the main thread, and what comes back. */
export type HostRequest =
  | { op: 'kv-get'; key: string; userId: string | undefined }
  | { op: 'kv-set'; key: string; value: string | undefined; userId: string | undefined }
  | { op: 'embedding-store'; content: string; collection: string }
  | { op: 'embedding-search'; query: string; collection: string }
  | { op: 'query-agent'; callId: string; query: string; agentId: string; queryKey: string | undefined };

export type HostReply = { ok: true; value: unknown } | { ok: false; error: string; fatal?: boolean };

export interface CallContextForGuest {
  callId: string;
  userId: string | undefined;
  appId: string;
}

export interface HostState {
  /** The last text passed to send-response-to-agent during the current call. */
  response: string | undefined;
  context: CallContextForGuest | undefined;
  /** The current call's arguments: get-context gives their JSON as the query. */
  args: Record<string, unknown> | undefined;
}

export interface EmbeddingScore {
  score: number;
  payload: [string, string][];
}

/** The host object for jco's import map, in jco's value representation (camelCase). */
export function createHostImports(
  state: HostState,
  env: Readonly<Record<string, string>>,
  request: (message: HostRequest) => HostReply,
): Record<string, (...args: never[]) => unknown> {
  const call = (message: HostRequest): unknown => {
    const reply = request(message);
    // A failure of toolport itself (disk full, store unreadable) traps the guest: it
    // cannot be expressed in these signatures, and the caller gets an error result.
    if (!reply.ok) throw new Error(reply.error);
    return reply.value;
  };
  return {
    sendResponseToAgent(response: string) {
      state.response = response;
    },
    getEnv(key: string) {
      return Object.hasOwn(env, key) ? env[key] : undefined;
    },
    getContext() {
      const context = state.context;
      return {
        // MCP carries no user message, only the tool call: its arguments are the query.
        query: { content: state.args ? JSON.stringify(state.args) : '', userId: context?.userId },
        appId: context?.appId ?? '',
      };
    },
    kvGet(key: string, userId: string | undefined) {
      return call({ op: 'kv-get', key, userId });
    },
    kvSet(key: string, value: string | undefined, userId: string | undefined) {
      call({ op: 'kv-set', key, value, userId });
    },
    embeddingStore(content: string, collection: string) {
      call({ op: 'embedding-store', content, collection });
    },
    embeddingSearch(query: string, collection: string) {
      return call({ op: 'embedding-search', query, collection });
    },
    queryAgent(args: { query: string; agentId: string; queryKey?: string }) {
      const reply = request({
        op: 'query-agent',
        callId: state.context?.callId ?? '',
        query: args.query,
        agentId: args.agentId,
        queryKey: args.queryKey,
      });
      if (reply.ok) return { content: String(reply.value) };
      if (reply.fatal) throw new Error(reply.error);
      return throwGuestError(reply.error);
    },
  };
}
