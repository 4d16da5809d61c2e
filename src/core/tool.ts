// The tool model every adapter produces and the server consumes: definitions as a
// plugin declares them, outcomes as a plugin answered, and what a call carries.
import type {
  ContentBlock,
  CreateMessageRequestParamsBase,
  CreateMessageResult,
  ElicitRequestFormParams,
  ElicitResult,
  LoggingLevel,
  ToolAnnotations,
} from '@modelcontextprotocol/server';

export type { ContentBlock, LoggingLevel, ToolAnnotations };

/** A JSON Schema document describing an object (MCP requires `type: "object"` for inputs). */
export type JsonSchemaObject = Record<string, unknown> & { type?: unknown };

export interface ToolDefinition {
  /** The plugin's own name for the tool; the registry derives the exposed name from it. */
  readonly name: string;
  readonly title?: string;
  readonly description?: string;
  /** JSON Schema, sent to clients verbatim and used to validate arguments. */
  readonly inputSchema: JsonSchemaObject;
  readonly outputSchema?: JsonSchemaObject;
  readonly annotations?: ToolAnnotations;
  /** The plugin says the tool changes something outside toolport (needs approval under policy). */
  readonly sideEffects?: boolean;
  /** Permissions the plugin declares for this tool, in its platform's vocabulary. */
  readonly permissions?: readonly string[];
  /** Extra `_meta` entries the adapter wants clients to see. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /**
   * The time limit of this tool's calls, when the plugin sets one per tool. It replaces the
   * plugin-level limit (config `timeoutSeconds`, else `defaults.timeoutSeconds`), so an
   * adapter that sets it is responsible for honouring the config (see AdapterContext).
   */
  readonly timeoutSeconds?: number;
}

/** What a plugin answered. `isError: true` means it answered with a failure. */
export interface ToolOutcome {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** Reports progress of a running call; values that do not increase are dropped. */
export type ProgressReporter = (progress: number, total?: number, message?: string) => void;

/** Who is calling and over which connection. Never carries tokens. */
export interface CallContext {
  /** A stable id for this call, for logs and correlation. */
  readonly callId: string;
  /** The authenticated principal, `local` for stdio and the CLI, `anonymous` for open HTTP. */
  readonly principal: string;
  readonly sessionId?: string;
  readonly client?: { readonly name: string; readonly version: string };
}

/**
 * Requests the calling client can serve while a call runs. A member is present only when
 * the client declared the capability and the connection can carry a server→client request.
 */
export interface ClientRequests {
  elicit?: (params: ElicitRequestFormParams) => Promise<ElicitResult>;
  sample?: (params: CreateMessageRequestParamsBase) => Promise<CreateMessageResult>;
}

export interface CallOptions {
  /** Aborted on client cancellation, timeout or shutdown. */
  readonly signal: AbortSignal;
  readonly progress: ProgressReporter;
  /** Sends a log message to the client when it asked for them (2025-era logging). */
  readonly log: (level: LoggingLevel, data: unknown) => void;
  /** What the client can be asked during the call (elicitation, sampling). */
  readonly client: ClientRequests;
  readonly context: CallContext;
}

export function textContent(text: string): ContentBlock {
  return { type: 'text', text };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
