// The tool model every adapter produces and the server consumes: definitions as a
// plugin declares them, outcomes as a plugin answered, and what a call carries.
import type { ToolportError } from './errors.js';
import type {
  ContentBlock,
  CreateMessageRequestParamsBase,
  CreateMessageResult,
  ElicitRequestFormParams,
  ElicitResult,
  InputRequiredResult,
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
  /**
   * Whether the tool changes something outside toolport, when the plugin's format says:
   * true asks for approval under the default policy, false makes it read-only. Left out,
   * the MCP annotations decide, else the side effects are unknown (asked about by default).
   */
  readonly sideEffects?: boolean;
  /** Permissions the plugin declares for this tool, in its platform's vocabulary. */
  readonly permissions?: readonly string[];
  /** Extra `_meta` entries the adapter wants clients to see. */
  readonly meta?: Readonly<Record<string, unknown>>;
  /**
   * The tool's own time limit, when the plugin declares one (a command skill's
   * `timeout_secs`). The plugin block's `timeoutSeconds` overrides it; without either,
   * `defaults.timeoutSeconds` applies. The pipeline resolves it; see CallOptions.timeoutMs.
   */
  readonly timeoutSeconds?: number;
}

/** A tool as in-process code declares it (module plugins, registerTool). */
export interface DeclaredTool {
  /** The tool's own name; the exposed name is `<plugin>__<name>` under the default naming. */
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  /** JSON Schema of the arguments (`parameters` is accepted as a synonym). Default: no arguments. */
  inputSchema?: JsonSchemaObject | undefined;
  parameters?: JsonSchemaObject | undefined;
  outputSchema?: JsonSchemaObject | undefined;
  annotations?: ToolAnnotations | undefined;
  /** The tool changes something outside toolport (true), or nothing (false). Default: from `annotations`, else unknown. */
  sideEffects?: boolean | undefined;
  /** Permissions the tool needs, in its platform's vocabulary. */
  permissions?: readonly string[] | undefined;
}

/** The definition of a declared tool: `inputSchema` (or `parameters`), else no arguments. */
export function toToolDefinition(tool: DeclaredTool): ToolDefinition {
  return {
    name: tool.name,
    ...(tool.title !== undefined && { title: tool.title }),
    ...(tool.description !== undefined && { description: tool.description }),
    inputSchema: tool.inputSchema ?? tool.parameters ?? { type: 'object', properties: {} },
    ...(tool.outputSchema !== undefined && { outputSchema: tool.outputSchema }),
    ...(tool.annotations !== undefined && { annotations: tool.annotations }),
    ...(tool.sideEffects !== undefined && { sideEffects: tool.sideEffects }),
    ...(tool.permissions !== undefined && { permissions: tool.permissions }),
  };
}

/**
 * Whether a tool changes anything outside toolport: `none` (read-only, as its format or the
 * config says), `some` (it says it does), or `unknown` (it does not say: the MCP spec
 * presumes such a tool may be destructive).
 */
export type SideEffects = 'none' | 'some' | 'unknown';

/** What a definition declares: `sideEffects`, else the MCP annotations, else unknown. */
export function declaredSideEffects(definition: Pick<ToolDefinition, 'sideEffects' | 'annotations'>): SideEffects {
  if (definition.sideEffects !== undefined) return definition.sideEffects ? 'some' : 'none';
  const hints = definition.annotations;
  if (hints?.destructiveHint === true || hints?.readOnlyHint === false) return 'some';
  if (hints?.readOnlyHint === true) return 'none';
  return 'unknown';
}

/** What a plugin answered. `isError: true` means it answered with a failure. */
export interface ToolOutcome {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/**
 * How a call ended: the plugin answered (also with `isError`), the answer has to come with a
 * retried request (2026-07-28 `input_required`), or there was no answer (refused, timed out,
 * crashed: `error` says which).
 */
export type CallEnding =
  | { readonly type: 'answered'; readonly outcome: ToolOutcome }
  | { readonly type: 'input_required'; readonly result: InputRequiredResult }
  | { readonly type: 'failed'; readonly error: unknown };

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
 * What a running tool may ask its caller, in every era: on a 2025-era connection a
 * server→client request; on a 2026-07-28 request the call ends with input_required and runs
 * again with the answer (asked before, answered at once); a client that did not declare the
 * capability ends the call with -32021 (MissingRequiredClientCapability). Functions that need
 * no `this`: a plugin may pass them on.
 */
export interface ClientRequests {
  readonly elicit: (params: ElicitRequestFormParams) => Promise<ElicitResult>;
  readonly sample: (params: CreateMessageRequestParamsBase) => Promise<CreateMessageResult>;
}

export interface CallDeadline {
  /** The time limit in milliseconds. */
  readonly ms: number;
  /**
   * For a plugin that queues calls: `hold` stops the clock while the call waits, `restart`
   * starts the whole limit again when the work itself starts (a command waiting for a free
   * slot does not lose its time; cancellation and shutdown still stop it while it waits).
   */
  hold(): void;
  restart(): void;
}

/** Registers a listener for the moment a call is stopped; returns the function that unregisters it. */
export type OnStop = (listener: (reason: ToolportError) => void) => () => void;

export interface CallOptions {
  /** Aborted on client cancellation, timeout (with a CallTimeout reason) or shutdown. */
  readonly signal: AbortSignal;
  /**
   * Fires `signal` now with `reason`, as cancellation does (the call still ends as the plugin
   * answers it). The plugin lifecycle stops its running calls through it at close, without a
   * signal of its own per call. Absent when the caller holds no such handle (then the
   * lifecycle makes one).
   */
  readonly interrupt?: ((reason: ToolportError) => void) | undefined;
  /**
   * Tells a listener once when `signal` fires (at once if it has), with the same reason. For a
   * plugin that only needs to be told, it costs less than listening on `signal` (which is made
   * when first read). Absent when the caller has no such hook: then listen on `signal`.
   */
  readonly onStop?: OnStop | undefined;
  /** The call's time limit, resolved once by the pipeline; `signal` fires when it passes. */
  readonly deadline: CallDeadline;
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
