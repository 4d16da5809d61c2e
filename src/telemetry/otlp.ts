// Whether traces are wanted and how they are sent: read from the config and the OTEL_*
// environment without loading any of OpenTelemetry, so a server without traces loads none of it.
import type { Logger } from '../core/logger.js';

export interface OtlpSettings {
  /** Base URL of the collector's OTLP/HTTP receiver; traces go to `<endpoint>/v1/traces`. */
  endpoint?: string | undefined;
  headers?: Readonly<Record<string, string>> | undefined;
  protocol?: OtlpProtocol | undefined;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Whether traces are on: a configured endpoint, or an OTLP endpoint in the environment (and the SDK not disabled). */
export function tracingWanted(settings: OtlpSettings | undefined, env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true' || env.OTEL_TRACES_EXPORTER?.toLowerCase() === 'none') return false;
  return Boolean(settings?.endpoint || env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * The encoding: the config's, else OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL,
 * else http/protobuf (the OTLP default; about half the CPU per span of JSON in bench/telemetry.mjs). `grpc` in the
 * environment is not served: the warning says so and traces go over http/protobuf.
 */
export function tracesProtocol(settings: OtlpSettings | undefined, env: NodeJS.ProcessEnv, logger?: Logger): OtlpProtocol {
  if (settings?.protocol) return settings.protocol;
  const named = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim().toLowerCase();
  if (!named || named === 'http/protobuf' || named === 'http/json') return (named as OtlpProtocol | undefined) ?? 'http/protobuf';
  logger?.warn({ protocol: named }, 'OTLP protocol not supported (toolport sends OTLP over HTTP); using http/protobuf');
  return 'http/protobuf';
}
