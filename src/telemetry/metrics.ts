// Prometheus metrics (prom-client), served at /metrics on the admin listener: the MCP
// operation duration (as the OpenTelemetry semantic conventions name it, in seconds),
// sessions, approvals, policy decisions, rate-limit refusals, plugin restarts and sandbox
// refusals. One registry per toolport, so two in one process do not mix their counts.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type SessionTransportName = 'stdio' | 'http' | 'sse';

export interface Metrics {
  readonly contentType: string;
  /** The text exposition of every metric. */
  text(): Promise<string>;
  operation(labels: { method: string; tool: string; plugin: string; outcome: string }, seconds: number): void;
  sessionStarted(transport: SessionTransportName): void;
  sessionEnded(transport: SessionTransportName, seconds: number): void;
  approvalWaiting(delta: 1 | -1): void;
  approvalAnswered(outcome: string, channel: string): void;
  decided(decision: string): void;
  rateLimited(tool: string): void;
  pluginRestarted(plugin: string): void;
  sandboxRefused(plugin: string): void;
}

/** The semantic conventions' advice for mcp.server.operation.duration, with a finer low end. */
const operationBuckets = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const sessionBuckets = [1, 10, 60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400];

export function createMetrics(): Metrics {
  const registry = new Registry();
  const operation = new Histogram({
    name: 'mcp_server_operation_duration_seconds',
    help: 'MCP requests served (mcp.server.operation.duration), by method, tool, plugin and outcome',
    labelNames: ['method', 'tool', 'plugin', 'outcome'] as const,
    buckets: operationBuckets,
    registers: [registry],
  });
  const sessionDuration = new Histogram({
    name: 'mcp_server_session_duration_seconds',
    help: 'How long long-lived MCP sessions (stdio, 2025-era HTTP sessions, SSE) lasted',
    labelNames: ['transport'] as const,
    buckets: sessionBuckets,
    registers: [registry],
  });
  const sessionsActive = new Gauge({ name: 'toolport_sessions_active', help: 'Sessions open now', labelNames: ['transport'] as const, registers: [registry] });
  const sessionsTotal = new Counter({ name: 'toolport_sessions_total', help: 'Sessions opened', labelNames: ['transport'] as const, registers: [registry] });
  const approvalsPending = new Gauge({ name: 'toolport_approvals_pending', help: 'Calls waiting for an approval now', registers: [registry] });
  const approvalsAnswered = new Counter({
    name: 'toolport_approvals_answered_total',
    help: 'Approval waits that ended, by outcome (approved, rejected, failed) and channel',
    labelNames: ['outcome', 'channel'] as const,
    registers: [registry],
  });
  const decisions = new Counter({ name: 'toolport_policy_decisions_total', help: 'Policy decisions on calls, by decision', labelNames: ['decision'] as const, registers: [registry] });
  const rateLimited = new Counter({ name: 'toolport_rate_limit_refusals_total', help: 'Calls refused by a rate limit or concurrency cap', labelNames: ['tool'] as const, registers: [registry] });
  const restarts = new Counter({ name: 'toolport_plugin_restarts_total', help: 'Plugin processes restarted after they died', labelNames: ['plugin'] as const, registers: [registry] });
  const sandbox = new Counter({ name: 'toolport_sandbox_refusals_total', help: 'Requests of a plugin its sandbox refused', labelNames: ['plugin'] as const, registers: [registry] });

  return {
    contentType: registry.contentType,
    text: () => registry.metrics(),
    operation: (labels, seconds) => operation.observe(labels, seconds),
    sessionStarted(transport) {
      sessionsActive.inc({ transport });
      sessionsTotal.inc({ transport });
    },
    sessionEnded(transport, seconds) {
      sessionsActive.dec({ transport });
      sessionDuration.observe({ transport }, seconds);
    },
    approvalWaiting: (delta) => approvalsPending.inc(delta),
    approvalAnswered: (outcome, channel) => approvalsAnswered.inc({ outcome, channel }),
    decided: (decision) => decisions.inc({ decision }),
    rateLimited: (tool) => rateLimited.inc({ tool }),
    pluginRestarted: (plugin) => restarts.inc({ plugin }),
    sandboxRefused: (plugin) => sandbox.inc({ plugin }),
  };
}
