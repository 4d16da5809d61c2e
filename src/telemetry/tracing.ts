// OpenTelemetry traces. This module, the API, the SDK and the OTLP/HTTP exporter (protobuf by
// default, JSON on request) are loaded only when traces are wanted (otlp.ts says whether:
// `telemetry.otlp.endpoint` or an OTEL_EXPORTER_OTLP_* endpoint variable), so a server without
// them pays nothing. Spans are made with explicit parents (no context manager): the request's
// SERVER span, then the approval wait and the plugin call under it.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import type { Logger } from '../core/logger.js';
import { tracesProtocol, type OtlpSettings } from './otlp.js';

export interface Tracing {
  /** The W3C trace context in a carrier (`_meta` or HTTP headers), as a parent context. */
  extract(carrier: Readonly<Record<string, unknown>> | undefined): Context | undefined;
  startSpan(name: string, kind: 'server' | 'internal', attributes: Attributes, parent: Context | undefined): Span;
  /** Marks the span as failed, with the error's message. */
  fail(span: Span, message?: string): void;
  /** The context a child of `span` is made in. */
  contextOf(span: Span, parent: Context | undefined): Context;
  /** Sends what is buffered and stops. */
  shutdown(): Promise<void>;
}

const getter: TextMapGetter<Readonly<Record<string, unknown>>> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key];
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
    return undefined;
  },
};

export async function startTracing(options: { settings: OtlpSettings | undefined; serviceName: string; version: string; logger: Logger; env?: NodeJS.ProcessEnv }): Promise<Tracing> {
  const { settings } = options;
  const env = options.env ?? process.env;
  const protocol = tracesProtocol(settings, env, options.logger);
  const [{ BasicTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, { W3CTraceContextPropagator }] = await Promise.all([
    import('@opentelemetry/sdk-trace-base'),
    protocol === 'http/json' ? import('@opentelemetry/exporter-trace-otlp-http') : import('@opentelemetry/exporter-trace-otlp-proto'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ]);
  const exporter = new OTLPTraceExporter({
    ...(settings?.endpoint && { url: `${settings.endpoint.replace(/\/+$/, '')}/v1/traces` }),
    ...(settings?.headers && { headers: { ...settings.headers } }),
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME ?? options.serviceName, 'service.version': options.version }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  const tracer: Tracer = provider.getTracer('toolport', options.version);
  const propagator = new W3CTraceContextPropagator();
  options.logger.info({ endpoint: settings?.endpoint ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT, protocol }, 'sending traces over OTLP/HTTP');
  return {
    extract(carrier) {
      if (!carrier || typeof carrier.traceparent !== 'string') return undefined;
      const context = propagator.extract(ROOT_CONTEXT, carrier, getter);
      return trace.getSpanContext(context) ? context : undefined;
    },
    startSpan: (name, kind, attributes, parent) => tracer.startSpan(name, { kind: kind === 'server' ? SpanKind.SERVER : SpanKind.INTERNAL, attributes }, parent ?? ROOT_CONTEXT),
    fail: (span, message) => span.setStatus({ code: SpanStatusCode.ERROR, ...(message !== undefined && { message }) }),
    contextOf: (span, parent) => trace.setSpan(parent ?? ROOT_CONTEXT, span),
    async shutdown() {
      await provider.shutdown().catch((error: unknown) => options.logger.warn({ err: error }, 'could not send the last traces'));
    },
  };
}
