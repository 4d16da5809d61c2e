// The tool model every adapter produces and the server consumes: definitions as a
// plugin declares them, outcomes as a plugin answered, and what a call carries.
import type { ContentBlock, LoggingLevel, ToolAnnotations } from '@modelcontextprotocol/server';

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

/** A question for the client's model (MCP sampling). */
export interface SampleRequest {
  readonly prompt: string;
  readonly systemPrompt?: string;
  readonly maxTokens: number;
}

/** Asks the client's model; resolves with its text answer. */
export type Sampler = (request: SampleRequest, signal: AbortSignal) => Promise<string>;

export interface CallOptions {
  /** Aborted on client cancellation, timeout or shutdown. */
  readonly signal: AbortSignal;
  readonly progress: ProgressReporter;
  /** Sends a log message to the client when it asked for them (2025-era logging). */
  readonly log: (level: LoggingLevel, data: unknown) => void;
  readonly context: CallContext;
  /** Present when the client offers sampling on this connection (2025-era sessions). */
  readonly sample?: Sampler;
}

export function textContent(text: string): ContentBlock {
  return { type: 'text', text };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
