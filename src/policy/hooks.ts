// Event hooks in the EvoClaw style: handlers subscribe to toolport's events and run in
// registration order, each with a time limit. tool_call handlers may block a call and
// tool_result handlers may replace its result; any failure there fails closed.
import { ErrorCode, ToolportError, describeThrown } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { SecretSet } from '../core/redact.js';
import { isPlainObject, type LoggingLevel, type ToolOutcome } from '../core/tool.js';

/** What every event about one call carries. */
export interface CallEventBase {
  /** ISO time the event was emitted. */
  readonly time: string;
  /** The exposed tool name. */
  readonly tool: string;
  /** The plugin's id (undefined for a call to an unknown tool). */
  readonly plugin: string | undefined;
  readonly callId: string;
  readonly principal: string;
  /** The MCP session or long-lived connection, if the call came over one. */
  readonly session: string | undefined;
  /** `name/version` of the client, when it said. */
  readonly client: string | undefined;
}

/** A call passed policy and approval and is about to run. Handlers may block it. */
export interface ToolCallEvent extends CallEventBase {
  readonly type: 'tool_call';
  /** A frozen copy: approvals are bound to the exact arguments, so hooks cannot change them. */
  readonly arguments: Readonly<Record<string, unknown>>;
  /** SHA-256 of the tool name and the arguments in canonical JSON (what approvals are bound to). */
  readonly argsDigest: string;
}

/** The plugin answered. Handlers may edit `result` in place or return a replacement. */
export interface ToolResultEvent extends CallEventBase {
  readonly type: 'tool_result';
  /** A copy owned by the hook chain; what it is after the last handler goes to the client. */
  result: ToolOutcome;
  readonly durationMs: number;
}

/** The call ended without an answer from the plugin: refused, blocked, timed out, failed. */
export interface ToolErrorEvent extends CallEventBase {
  readonly type: 'tool_error';
  /** A ToolportError code, e.g. CALL_DENIED, CALL_BLOCKED, RATE_LIMITED, CALL_TIMEOUT. */
  readonly code: string;
  /** What the model was told. */
  readonly message: string;
  readonly durationMs: number;
}

/** A plugin sent a log or notification text while a call ran. */
export interface MessageEvent extends CallEventBase {
  readonly type: 'message';
  readonly level: LoggingLevel;
  readonly data: unknown;
}

export type SessionTransport = 'stdio' | 'http' | 'sse';

/** A long-lived connection (stdio, a 2025-era HTTP session, an SSE stream) began. */
export interface SessionStartEvent {
  readonly type: 'session_start';
  readonly time: string;
  readonly session: string;
  readonly principal: string;
  readonly transport: SessionTransport;
  readonly client: string | undefined;
  readonly protocolVersion: string | undefined;
}

export interface SessionEndEvent {
  readonly type: 'session_end';
  readonly time: string;
  readonly session: string;
  readonly principal: string;
  readonly transport: SessionTransport;
  readonly durationMs: number;
}

/** The tool list changed (a plugin added or removed tools, a tool was registered). */
export interface ListChangedEvent {
  readonly type: 'list_changed';
  readonly time: string;
  /** Every exposed tool name after the change. */
  readonly tools: readonly string[];
}

/** A tool's definition no longer matches its pin, a pinned plugin has a new tool, or such a change was approved. */
export interface PinChangedEvent {
  readonly type: 'pin_changed';
  readonly time: string;
  /** The exposed tool name. */
  readonly tool: string;
  readonly plugin: string;
  /** `changed`: differs from its pin; `new`: a new tool of a pinned plugin; `approved`: accepted as the pin. */
  readonly change: 'changed' | 'new' | 'approved';
  /** What toolport does about it (pins.onChange / pins.onNewTool), or `pinned` once approved. */
  readonly action: 'quarantine' | 'ask' | 'warn' | 'pinned';
  /** Which parts changed, e.g. `description, input schema`. */
  readonly changed: string;
  readonly pinnedDigest: string | undefined;
  readonly currentDigest: string;
}

export interface HookEventMap {
  tool_call: ToolCallEvent;
  tool_result: ToolResultEvent;
  tool_error: ToolErrorEvent;
  message: MessageEvent;
  session_start: SessionStartEvent;
  session_end: SessionEndEvent;
  list_changed: ListChangedEvent;
  pin_changed: PinChangedEvent;
}

export type HookEventName = keyof HookEventMap;
export type HookEvent = HookEventMap[HookEventName];
export const hookEventNames: readonly HookEventName[] = [
  'tool_call',
  'tool_result',
  'tool_error',
  'message',
  'session_start',
  'session_end',
  'list_changed',
  'pin_changed',
];

export interface HookContext {
  /** Aborted when the handler runs out of time; stop work then, the answer is ignored. */
  readonly signal: AbortSignal;
}

/** What a handler may return: an Error blocks a tool_call; a result replaces a tool_result. */
export type HookReturn<E extends HookEventName> = E extends 'tool_call'
  ? void | Error
  : E extends 'tool_result'
    ? void | Error | ToolOutcome
    : unknown;

export type HookHandler<E extends HookEventName> = (
  event: HookEventMap[E],
  context: HookContext,
) => HookReturn<E> | Promise<HookReturn<E>>;

export interface HookOptions {
  /** Names the handler in messages and logs, e.g. the hook module's file. */
  name?: string;
  /** Time limit for one run of the handler. Default 5000. */
  timeoutMs?: number;
}

export interface HookBus {
  /** Adds a handler after the existing ones for that event. Returns the function that removes it. */
  on<E extends HookEventName>(event: E, handler: HookHandler<E>, options?: HookOptions): () => void;
  /** Sees every event once its handlers are done (for the event stream). Never blocks anything. */
  tap(listener: (event: HookEvent) => void): () => void;
  /** Runs tool_call handlers; rejects with a CALL_BLOCKED ToolportError when one blocks or fails. */
  runToolCall(event: ToolCallEvent): Promise<void>;
  /** Runs tool_result handlers; resolves with the final result, rejects with CALL_BLOCKED when one fails. */
  runToolResult(event: ToolResultEvent): Promise<ToolOutcome>;
  /** Emits an event nobody can block; handlers run in order, in the background, failures are logged. */
  notify(event: Exclude<HookEvent, ToolCallEvent | ToolResultEvent>): void;
  /** Whether any handler listens for this event. */
  has(event: HookEventName): boolean;
  /** Whether anything (a handler or an event-stream tap) would see this event; if not, skip building it. */
  wants(event: HookEventName): boolean;
  /** Waits for background handlers queued so far (for shutdown and tests). */
  drain(): Promise<void>;
}

export interface HookBusOptions {
  logger: Logger;
  secrets: SecretSet;
  defaultTimeoutMs?: number;
}

interface Registration {
  readonly handler: HookHandler<HookEventName>;
  readonly name: string;
  readonly timeoutMs: number;
}

export const defaultHookTimeoutMs = 5000;

/** What one run of a handler came to: its return value, or why it failed. */
type HandlerOutcome = { ok: true; value: unknown } | { ok: false; why: string };

/** A copy handlers cannot reach the original through; values that cannot be cloned become JSON or text. */
function copyOf<T>(value: T): T {
  try {
    return structuredClone(value);
  } catch {
    try {
      return JSON.parse(JSON.stringify(value) ?? 'null') as T;
    } catch {
      return String(value) as T;
    }
  }
}

/** Deep-frozen copy: handlers see the data but cannot change it. */
function frozenCopy<T>(value: T): T {
  const copy = copyOf(value);
  const freeze = (item: unknown): void => {
    if (typeof item !== 'object' || item === null || Object.isFrozen(item)) return;
    Object.freeze(item);
    for (const child of Object.values(item)) freeze(child);
  };
  freeze(copy);
  return copy;
}

function isOutcome(value: unknown): value is ToolOutcome {
  return (
    isPlainObject(value) &&
    Array.isArray(value.content) &&
    value.content.every((block) => isPlainObject(block) && typeof block.type === 'string') &&
    (value.structuredContent === undefined || isPlainObject(value.structuredContent)) &&
    (value.isError === undefined || typeof value.isError === 'boolean')
  );
}

export function createHookBus(options: HookBusOptions): HookBus {
  const { logger, secrets } = options;
  const defaultTimeoutMs = options.defaultTimeoutMs ?? defaultHookTimeoutMs;
  const handlers = new Map<HookEventName, Registration[]>();
  const taps = new Set<(event: HookEvent) => void>();
  let counter = 0;
  // Background events run one after another, so handlers see them in the order they happened.
  let queue: Promise<void> = Promise.resolve();

  const registrations = (event: HookEventName): readonly Registration[] => handlers.get(event) ?? [];

  /** Taps see events in the order they happened, after the background handlers queued before them. */
  function emitToTaps(event: HookEvent): void {
    if (taps.size === 0) return;
    queue = queue.then(() => deliver(event));
  }

  function deliver(event: HookEvent): void {
    for (const listener of taps) {
      try {
        listener(event);
      } catch (error) {
        logger.warn({ err: error, event: event.type }, 'event listener failed');
      }
    }
  }

  /** Runs one handler under its time limit; never throws. */
  async function runHandler(registration: Registration, event: HookEvent): Promise<HandlerOutcome> {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<HandlerOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error('hook timed out'));
        resolve({ ok: false, why: `did not finish within ${registration.timeoutMs / 1000} s` });
      }, registration.timeoutMs);
      timer.unref();
    });
    const ran = (async (): Promise<HandlerOutcome> => {
      try {
        const value: unknown = await registration.handler(event, { signal: controller.signal });
        if (value instanceof Error) return { ok: false, why: value.message || value.name };
        return { ok: true, value };
      } catch (error) {
        // A deliberate block and a crash both land here: either way the call does not go on.
        // A plain Error is a deliberate block and its message is the reason; other types name themselves.
        if (!(error instanceof Error)) return { ok: false, why: describeThrown(error) };
        const message = error.message || error.name;
        return { ok: false, why: error.constructor === Error ? message : `${error.name}: ${message}` };
      }
    })();
    try {
      return await Promise.race([ran, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  // The model sees the hook's own words, without known secrets and within reason.
  const blocked = (message: string, pluginId: string | undefined): ToolportError =>
    new ToolportError(ErrorCode.CallBlocked, secrets.redact(message).slice(0, 2000), { pluginId });

  return {
    on(event, handler, hookOptions = {}) {
      counter += 1;
      const registration: Registration = {
        handler: handler as HookHandler<HookEventName>,
        name: hookOptions.name ?? (handler.name || `${event} handler #${counter}`),
        timeoutMs: hookOptions.timeoutMs ?? defaultTimeoutMs,
      };
      handlers.set(event, [...registrations(event), registration]);
      return () => {
        handlers.set(
          event,
          registrations(event).filter((entry) => entry !== registration),
        );
      };
    },
    tap(listener) {
      taps.add(listener);
      return () => taps.delete(listener);
    },
    async runToolCall(event) {
      const frozen: ToolCallEvent = Object.freeze({ ...event, arguments: frozenCopy(event.arguments) });
      emitToTaps(frozen);
      for (const registration of registrations('tool_call')) {
        const outcome = await runHandler(registration, frozen);
        if (!outcome.ok) {
          logger.warn({ tool: event.tool, callId: event.callId, hook: registration.name }, `tool_call hook blocked the call: ${outcome.why}`);
          throw blocked(`${event.tool} was blocked by hook ${registration.name}: ${outcome.why}`, event.plugin);
        }
      }
    },
    async runToolResult(event) {
      const chain = registrations('tool_result');
      if (chain.length === 0) {
        emitToTaps(event);
        return event.result;
      }
      const working: ToolResultEvent = { ...event, result: copyOf(event.result) };
      for (const registration of chain) {
        const outcome = await runHandler(registration, working);
        // A redaction hook that fails must not let the unredacted result through.
        if (!outcome.ok) {
          logger.warn({ tool: event.tool, callId: event.callId, hook: registration.name }, `tool_result hook failed: ${outcome.why}`);
          throw blocked(`the result of ${event.tool} was withheld by hook ${registration.name}: ${outcome.why}`, event.plugin);
        }
        if (outcome.value !== undefined && outcome.value !== null) working.result = outcome.value as ToolOutcome;
        if (!isOutcome(working.result)) {
          throw blocked(
            `the result of ${event.tool} was withheld: hook ${registration.name} left a result without a "content" list of content blocks`,
            event.plugin,
          );
        }
      }
      emitToTaps(working);
      return working.result;
    },
    notify(event) {
      const targets = registrations(event.type);
      if (targets.length === 0 && taps.size === 0) return;
      const frozen = frozenCopy(event);
      queue = queue.then(async () => {
        for (const registration of targets) {
          const outcome = await runHandler(registration, frozen);
          if (!outcome.ok) logger.warn({ event: event.type, hook: registration.name }, `${event.type} hook failed: ${outcome.why}`);
        }
        deliver(frozen);
      });
    },
    has: (event) => registrations(event).length > 0,
    wants: (event) => taps.size > 0 || registrations(event).length > 0,
    drain: () => queue,
  };
}
