// Telemetry of a running toolport: Prometheus metrics (when the admin listener serves them),
// OpenTelemetry traces (when an OTLP endpoint is configured) and the console's live view of
// calls. Transports open a scope per MCP request; the pipeline reports through `monitor`.
// With all of it off, `request` answers undefined and `monitor` is undefined: no cost.
import type { Context, Span } from '@opentelemetry/api';
import type { Logger } from '../core/logger.js';
import type { CallEnding } from '../core/tool.js';
import type { CallState, ToolCall } from '../pipeline/call.js';
import type { CallMonitor, CallScope } from '../pipeline/monitor.js';
import type { AuditRecord } from '../policy/audit.js';
import { createLiveCalls, type LiveCalls } from './live.js';
import type { Metrics, SessionTransportName } from './metrics.js';
import { tracingWanted, type OtlpSettings } from './otlp.js';
import type { Tracing } from './tracing.js';

export type { LiveCallEvent, LiveCalls } from './live.js';
export type { Metrics } from './metrics.js';
export type { OtlpSettings } from './otlp.js';

/** One MCP request as the transport saw it. */
export interface McpRequestInfo {
  readonly method: string;
  /** The tool or prompt named by the request. */
  readonly target?: string | undefined;
  readonly requestId: string | number;
  readonly protocolVersion?: string | undefined;
  readonly sessionId?: string | undefined;
  readonly transport: SessionTransportName;
  /** The request's `_meta` (where 2026-07-28 carries `traceparent` and `tracestate`). */
  readonly meta?: Readonly<Record<string, unknown>> | undefined;
  /** The HTTP request's headers, when it came over HTTP. */
  readonly headers?: Headers | undefined;
}

export interface RequestScope extends CallScope {
  /** The request was answered (`isError` results are tool errors) or failed with `error`. */
  end(answer: { result?: unknown; error?: unknown }): void;
}

export interface Telemetry {
  readonly metrics: Metrics | undefined;
  readonly live: LiveCalls | undefined;
  readonly tracing: boolean;
  /** Whether requests are measured (metrics or traces on); when false, transports skip `request`. */
  readonly active: boolean;
  readonly monitor: CallMonitor | undefined;
  request(info: McpRequestInfo): RequestScope | undefined;
  sessionStarted(transport: SessionTransportName): void;
  sessionEnded(transport: SessionTransportName, durationMs: number): void;
  /** A plugin's process was restarted, or its sandbox refused something. */
  pluginEvent(plugin: string, event: 'restart' | 'sandbox_refusal'): void;
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** Keep Prometheus metrics (the admin listener serves them). */
  metrics: boolean;
  /** Keep the live view of calls (the console shows it). */
  live: boolean;
  otlp: OtlpSettings | undefined;
  serviceName: string;
  version: string;
  logger: Logger;
  env?: NodeJS.ProcessEnv;
}

const headerCarrier = (headers: Headers | undefined): Record<string, string> | undefined => {
  const traceparent = headers?.get('traceparent');
  if (!traceparent) return undefined;
  const tracestate = headers?.get('tracestate');
  return { traceparent, ...(tracestate && { tracestate }) };
};

/** `error.type` of a failed request: the JSON-RPC code of a protocol error, else the error's name. */
function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'number' || typeof code === 'string') return String(code);
  return error instanceof Error ? error.constructor.name : 'error';
}

export async function createTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  // prom-client and OpenTelemetry load only for a server that uses them.
  const metrics = options.metrics ? (await import('./metrics.js')).createMetrics() : undefined;
  const live = options.live ? createLiveCalls() : undefined;
  const env = options.env ?? process.env;
  const tracing: Tracing | undefined = tracingWanted(options.otlp, env)
    ? await (await import('./tracing.js')).startTracing({ settings: options.otlp, serviceName: options.serviceName, version: options.version, logger: options.logger, env })
    : undefined;
  const on = metrics !== undefined || live !== undefined || tracing !== undefined;

  const parentOf = (scope: CallScope | undefined): Context | undefined => scope?.parent as Context | undefined;

  // Each part is there only for an observer that uses it: traces alone need neither the start
  // of a call nor its end record; metrics alone need no wrapper around the plugin call.
  const monitor: CallMonitor | undefined = on
    ? {
        ...(live && {
          started(call) {
            // A call's start matters only to a page watching now; its end is kept for later ones.
            if (live.watched) live.push({ type: 'start', key: String(call.seq), callId: call.context.callId, time: new Date().toISOString(), tool: call.name, plugin: undefined, principal: call.context.principal, session: call.session });
          },
        }),
        async approval(call, wait) {
          metrics?.approvalWaiting(1);
          const span = tracing?.startSpan(`approval ${call.name}`, 'internal', { 'gen_ai.tool.name': call.name, 'toolport.approval.rule': call.decision?.because ?? '' }, parentOf(call.options.scope));
          let failed = false;
          try {
            return await wait();
          } catch (error) {
            failed = true;
            throw error;
          } finally {
            metrics?.approvalWaiting(-1);
            const { answer } = call;
            const outcome = answer ? (answer.approved ? 'approved' : 'rejected') : failed ? 'failed' : 'input_required';
            metrics?.approvalAnswered(outcome, answer?.channel ?? 'none');
            if (span) {
              span.setAttributes({
                'toolport.approval.outcome': outcome,
                ...(answer && { 'toolport.approval.channel': answer.channel }),
                ...(answer?.approver !== undefined && { 'toolport.approval.approver': answer.approver }),
              });
              span.end();
            }
          }
        },
        ...(tracing && {
          async plugin<T>(call: ToolCall, run: () => Promise<T>): Promise<T> {
            const { plugin, kind } = call.tool;
            const span = tracing.startSpan(`plugin ${plugin.id}`, 'internal', { 'toolport.plugin.id': plugin.id, 'toolport.plugin.kind': kind, 'gen_ai.tool.name': call.name }, parentOf(call.options.scope));
            try {
              const outcome = await run();
              if ((outcome as { isError?: unknown }).isError === true) span.setAttribute('error.type', 'tool_error');
              return outcome;
            } catch (error) {
              span.setAttribute('error.type', errorType(error));
              tracing.fail(span, error instanceof Error ? error.message : String(error));
              throw error;
            } finally {
              span.end();
            }
          },
        }),
        ...((metrics || live) && {
          ended(call: CallState, _ending: CallEnding, record: AuditRecord) {
            if (record.decision !== undefined) metrics?.decided(record.decision);
            if (record.outcome === 'rate_limited') metrics?.rateLimited(call.name);
            live?.push(
              {
                type: 'end',
                key: String(call.seq),
                callId: record.callId,
                time: record.time,
                tool: record.tool,
                plugin: record.plugin,
                principal: record.principal,
                session: record.session,
                decision: record.decision,
                outcome: record.outcome,
                durationMs: record.durationMs,
              },
              record,
            );
          },
        }),
      }
    : undefined;

  return {
    metrics,
    live,
    tracing: tracing !== undefined,
    active: metrics !== undefined || tracing !== undefined,
    monitor,
    request(info) {
      if (!metrics && !tracing) return undefined;
      const started = performance.now();
      const isToolCall = info.method === 'tools/call';
      let span: Span | undefined;
      let parent: Context | undefined;
      if (tracing) {
        const remote = tracing.extract(info.meta) ?? tracing.extract(headerCarrier(info.headers));
        span = tracing.startSpan(info.target ? `${info.method} ${info.target}` : info.method, 'server', {
          'mcp.method.name': info.method,
          'jsonrpc.request.id': String(info.requestId),
          'network.transport': info.transport === 'stdio' ? 'pipe' : 'tcp',
          ...(info.protocolVersion !== undefined && { 'mcp.protocol.version': info.protocolVersion }),
          ...(info.sessionId !== undefined && { 'mcp.session.id': info.sessionId }),
          ...(isToolCall && info.target !== undefined && { 'gen_ai.tool.name': info.target, 'gen_ai.operation.name': 'execute_tool' }),
          ...(info.method === 'prompts/get' && info.target !== undefined && { 'gen_ai.prompt.name': info.target }),
        }, remote);
        parent = tracing.contextOf(span, remote);
      }
      const scope: RequestScope = {
        parent,
        end({ result, error }) {
          const toolError = error === undefined && (result as { isError?: unknown } | undefined)?.isError === true;
          const failure = error !== undefined ? errorType(error) : toolError ? 'tool_error' : undefined;
          const outcome = scope.outcome ?? (error !== undefined ? 'error' : toolError ? 'error' : 'ok');
          metrics?.operation({ method: info.method, tool: isToolCall ? (info.target ?? '') : '', plugin: scope.plugin ?? '', outcome }, (performance.now() - started) / 1000);
          if (span) {
            if (scope.plugin !== undefined) span.setAttribute('toolport.plugin.id', scope.plugin);
            if (scope.outcome !== undefined) span.setAttribute('toolport.outcome', scope.outcome);
            if (failure !== undefined) {
              span.setAttribute('error.type', failure);
              tracing?.fail(span, error instanceof Error ? error.message : undefined);
            }
            span.end();
          }
        },
      };
      return scope;
    },
    sessionStarted: (transport) => metrics?.sessionStarted(transport),
    sessionEnded: (transport, durationMs) => metrics?.sessionEnded(transport, durationMs / 1000),
    pluginEvent(plugin, event) {
      if (event === 'restart') metrics?.pluginRestarted(plugin);
      else metrics?.sandboxRefused(plugin);
    },
    async shutdown() {
      await tracing?.shutdown();
    },
  };
}
