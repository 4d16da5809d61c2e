// One call as it moves through the pipeline: what was asked, by whom, and what each step
// found (the tool, the checked arguments, the decision, the approval). The digest of the
// exact call is computed once, when a step first needs it.
import { randomUUID } from 'node:crypto';
import type { ExposedTool } from '../core/registry.js';
import { createProgressPhases } from '../core/progress.js';
import type { CallContext, CallOptions, ProgressReporter } from '../core/tool.js';
import type { ApprovalAnswer, ApprovalChannel } from '../policy/approval-types.js';
import type { Decision } from '../policy/decide.js';
import type { RoundTrip, RoundTripChannel } from '../policy/round-trip.js';
import { callDigest } from '../policy/digest.js';
import type { CallEventBase } from '../policy/hooks.js';

/**
 * What a transport passes with a call for its request's telemetry: the trace context of the
 * request's span (opaque here), and what the pipeline found out, filled in as the call ends.
 */
export interface CallScope {
  /** The parent of the call's spans (an OpenTelemetry Context), when traces are on. */
  readonly parent?: unknown;
  /** Set by the pipeline: the plugin that served the call. */
  plugin?: string | undefined;
  /** Set by the pipeline: how the call ended (the audit outcome: ok, error, denied, …). */
  outcome?: string | undefined;
}

/** What a transport or in-process caller passes with a call. */
export interface ToolCallOptions {
  /** The client's cancellation of this request. */
  signal?: AbortSignal;
  /**
   * Fires when every call of the connection must stop although it stays open to answer
   * them (stdin ended). Kept apart from `signal` so no per-request signal joins the two.
   */
  stop?: AbortSignal | undefined;
  progress?: CallOptions['progress'];
  log?: CallOptions['log'];
  /** What a 2025-era client can be asked directly (server→client requests). */
  client?: Partial<CallOptions['client']>;
  /** A 2026-07-28 request: questions (approval, plugin's) end the call with input_required. */
  roundTrip?: RoundTripChannel | undefined;
  /** How this call's client can be asked for approval. */
  approval?: ApprovalChannel;
  /** The session or long-lived connection the call came over, for events and the audit log. */
  session?: string | undefined;
  context?: Partial<CallContext>;
  /** The request's telemetry (trace parent; told the plugin and outcome), from the transport. */
  scope?: CallScope | undefined;
}

export interface CallState {
  /** The exposed name the client asked for. */
  readonly name: string;
  /** The arguments as they came. */
  readonly args: unknown;
  readonly options: ToolCallOptions;
  readonly context: CallContext;
  /** The session the call is reported under (events, audit). */
  readonly session: string | undefined;
  /** performance.now() when the call arrived. */
  readonly startedAt: number;
  tool?: ExposedTool;
  /** The arguments, once they matched the tool's input schema. */
  input?: Record<string, unknown>;
  /** Set once the arguments passed the size and depth limits (only then may the audit hold them). */
  argumentsWithinLimits?: boolean;
  decision?: Decision;
  answer?: ApprovalAnswer;
  /** The round trip of a 2026-07-28 request, once its retried state was checked. */
  trip?: RoundTrip;
  /** When the tool's definition differs from its pin and pins say `ask`: the change, for the approval prompt. */
  pinChange?: string;
  /** SHA-256 of the tool name and the arguments in canonical JSON; computed on first use. */
  digest(): string;
  /** The digest if a step already needed it (approvals, hooks, audit), without computing it. */
  knownDigest(): string | undefined;
  /** Unique among the calls of this process (call ids are JSON-RPC ids, which clients reuse). */
  readonly seq: number;
  /** The progress reporter of the call's next phase (approval wait, then the plugin). */
  progressPhase(): ProgressReporter;
  /** The fields every event about this call carries, stamped now. */
  eventBase(): CallEventBase;
}

/** A call whose tool was found and whose arguments passed the schema. */
export interface ToolCall extends CallState {
  readonly tool: ExposedTool;
  readonly input: Record<string, unknown>;
}

/** The call's context with defaults: a fresh call id, and `local` for in-process callers. */
function toCallContext(options: ToolCallOptions): CallContext {
  const given = options.context;
  // A whole context that cannot change (the MCP server's, frozen) is used as it is; any other is
  // copied, so a caller that reuses and changes its object does not change a running call.
  if (given !== undefined && Object.isFrozen(given) && given.callId !== undefined && given.principal !== undefined) return given as CallContext;
  return {
    callId: given?.callId ?? randomUUID(),
    principal: given?.principal ?? 'local',
    ...(given?.sessionId !== undefined && { sessionId: given.sessionId }),
    ...(given?.client !== undefined && { client: given.client }),
  };
}

let nextSeq = 1;

export function startCall(name: string, args: unknown, options: ToolCallOptions): CallState {
  // Options that cannot change (the MCP server's, frozen) are used as they are; any other are
  // copied, so a caller that reuses and changes its object (its signal, its progress reporter)
  // does not change a running call.
  return new PipelineCall(name, args, Object.isFrozen(options) ? options : { ...options }, toCallContext(options));
}

/**
 * A call's state as a class: the fields the steps fill in are there from the start (one object
 * shape for every call) and the methods are on the prototype, not closures made for each call.
 */
class PipelineCall implements CallState {
  readonly session: string | undefined;
  readonly startedAt = performance.now();
  readonly seq = nextSeq++;
  tool: ExposedTool | undefined = undefined;
  input: Record<string, unknown> | undefined = undefined;
  argumentsWithinLimits: boolean | undefined = undefined;
  decision: Decision | undefined = undefined;
  answer: ApprovalAnswer | undefined = undefined;
  trip: RoundTrip | undefined = undefined;
  pinChange: string | undefined = undefined;
  #digest: string | undefined = undefined;
  #base: Omit<CallEventBase, 'time'> | undefined = undefined;
  #phases: (() => ProgressReporter) | undefined = undefined;

  constructor(
    readonly name: string,
    readonly args: unknown,
    readonly options: ToolCallOptions,
    readonly context: CallContext,
  ) {
    this.session = options.session ?? context.sessionId ?? options.approval?.sessionKey;
  }

  digest(): string {
    return (this.#digest ??= callDigest(this.name, this.args));
  }

  knownDigest(): string | undefined {
    return this.#digest;
  }

  progressPhase(): ProgressReporter {
    this.#phases ??= createProgressPhases(this.options.progress);
    return this.#phases();
  }

  eventBase(): CallEventBase {
    const { context } = this;
    this.#base ??= {
      tool: this.name,
      plugin: this.tool?.plugin.id,
      callId: context.callId,
      principal: context.principal,
      session: this.session,
      client: context.client ? `${context.client.name}/${context.client.version}` : undefined,
    };
    return { time: new Date().toISOString(), ...this.#base };
  }
}

/** Milliseconds since the call arrived, to a tenth. */
export function elapsedMs(call: CallState): number {
  return Math.round((performance.now() - call.startedAt) * 10) / 10;
}
