// OpenTelemetry traces, received by a real OTLP/HTTP receiver the test starts: a SERVER span
// per MCP request with the semantic-convention attributes, the approval wait and the plugin
// call as its children, and the trace context a client sends in `_meta` or in HTTP headers;
// the OTEL_* variables; and, from a real server's own import record, no SDK without an endpoint.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTempDir } from '../helpers/temp-dir.js';
import { adminUrlOf, decideApproval, waitForPending } from '../helpers/admin.js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { connectClient, serveConfig, type ConfiguredServer } from '../helpers/toolport-process.js';
import { textOf } from '../helpers/wait.js';
import { parseConfig } from '../../src/config/load.js';
import { createSilentLogger } from '../../src/core/logger.js';
import type { Logger } from '../../src/core/logger.js';
import { createTelemetry } from '../../src/telemetry/index.js';
import { tracesProtocol } from '../../src/telemetry/otlp.js';
import { createToolport } from '../../src/toolport.js';

const shop = fileURLToPath(new URL('../fixtures/policy/shop.mjs', import.meta.url));
const adminToken = 'tracing-admin-token-0001';
const serverKind = 2;
const internalKind = 1;

let receiver: OtlpReceiver;
let server: ConfiguredServer;

const newTraceparent = (): { traceId: string; parentId: string; header: string } => {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
};

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  server = await serveConfig(
    (dir) => [
      'approvals:',
      `  admin: { token: "${adminToken}", port: 0 }`,
      'policy:',
      '  rules:',
      '    - { tool: shop__refund, action: deny }',
      'telemetry:',
      `  otlp: { endpoint: "${receiver.url}", headers: { x-api-key: "otlp-key-for-the-test-42" } }`,
      'plugins:',
      `  - path: ${shop}`,
      `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`,
    ],
    // Export batches every 100 ms rather than every 5 s, so the test need not wait.
    { env: { OTEL_BSP_SCHEDULE_DELAY: '100' } },
  );
});

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

describe('traces over OTLP/HTTP', () => {
  it('a tools/call is a SERVER span under the traceparent sent in _meta, with the plugin call as its child', async () => {
    const client: Client = await connectClient('http-2026', { url: server.url });
    try {
      const trace = newTraceparent();
      const result = await client.callTool({ name: 'shop__menu', arguments: {}, _meta: { traceparent: trace.header, tracestate: 'vendor=1' } });
      expect(textOf(result)).toBe('burger, fries, shake');
      const span = await receiver.waitFor((s) => s.traceId === trace.traceId && s.kind === serverKind);
      expect(span.name).toBe('tools/call shop__menu');
      expect(span.parentSpanId).toBe(trace.parentId);
      expect(span.attributes).toMatchObject({
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'shop__menu',
        'gen_ai.operation.name': 'execute_tool',
        'mcp.protocol.version': '2026-07-28',
        'network.transport': 'tcp',
        'toolport.plugin.id': 'shop',
        'toolport.outcome': 'ok',
      });
      expect(typeof span.attributes['jsonrpc.request.id']).toBe('string');
      expect(span.attributes['error.type']).toBeUndefined();
      expect(span.resource['service.name']).toBe('toolport');

      const plugin = await receiver.waitFor((s) => s.traceId === trace.traceId && s.name === 'plugin shop');
      expect(plugin.kind).toBe(internalKind);
      expect(plugin.parentSpanId).toBe(span.spanId);
      expect(plugin.attributes).toMatchObject({ 'toolport.plugin.id': 'shop', 'toolport.plugin.kind': 'module' });
      // Protobuf unless asked otherwise (the OTLP default, and half the CPU per span of JSON).
      expect(receiver.contentTypes[0]).toMatch(/^application\/x-protobuf/);
      // The configured headers go with every export, and stay out of the log.
      expect(receiver.headers[0]?.['x-api-key']).toBe('otlp-key-for-the-test-42');
      expect(server.stderr()).not.toContain('otlp-key-for-the-test-42');
    } finally {
      await client.close();
    }
  });

  it('the approval wait is a child span that says who approved it over which channel', async () => {
    const client = await connectClient('http-2026', { url: server.url });
    try {
      const trace = newTraceparent();
      const call = client.callTool({ name: 'shop__order', arguments: { item: 'fries' }, _meta: { traceparent: trace.header } });
      const admin = adminUrlOf(server);
      const id = await waitForPending(admin, adminToken);
      expect((await decideApproval(admin, adminToken, id, 'approve', { by: 'ops' })).status).toBe(200);
      expect(textOf(await call)).toBe('ordered 1 fries');

      const span = await receiver.waitFor((s) => s.traceId === trace.traceId && s.kind === serverKind);
      expect(span.name).toBe('tools/call shop__order');
      const approval = await receiver.waitFor((s) => s.traceId === trace.traceId && s.name === 'approval shop__order');
      expect(approval.parentSpanId).toBe(span.spanId);
      expect(approval.attributes).toMatchObject({ 'toolport.approval.channel': 'inbox', 'toolport.approval.approver': 'admin (ops)', 'toolport.approval.outcome': 'approved' });
      const plugin = await receiver.waitFor((s) => s.traceId === trace.traceId && s.name === 'plugin shop');
      expect(plugin.parentSpanId).toBe(span.spanId);
    } finally {
      await client.close();
    }
  });

  it('a refused call is a tool_error; a 2025 session takes its trace context from HTTP headers', async () => {
    const trace = newTraceparent();
    const client = await connectClient('http-2025', { url: server.url, headers: { traceparent: trace.header } });
    try {
      const refused = await client.callTool({ name: 'shop__refund', arguments: { id: 7 } });
      expect(refused.isError).toBe(true);
      const span = await receiver.waitFor((s) => s.traceId === trace.traceId && s.name === 'tools/call shop__refund');
      expect(span.parentSpanId).toBe(trace.parentId);
      expect(span.attributes).toMatchObject({ 'error.type': 'tool_error', 'toolport.outcome': 'denied', 'mcp.protocol.version': '2025-11-25' });
      expect(span.status.code).toBe(2);
      expect(typeof span.attributes['mcp.session.id']).toBe('string');

      await client.listTools();
      const list = await receiver.waitFor((s) => s.traceId === trace.traceId && s.name === 'tools/list');
      expect(list.attributes['mcp.method.name']).toBe('tools/list');
      expect(list.attributes['gen_ai.operation.name']).toBeUndefined();
    } finally {
      await client.close();
    }
  });

  it('a legacy SSE session takes its trace context from the headers of each POST', async () => {
    const trace = newTraceparent();
    const client = await connectClient('sse', { url: server.url, headers: { traceparent: trace.header } });
    try {
      await client.callTool({ name: 'shop__menu', arguments: {} });
      const span = await receiver.waitFor((s) => s.traceId === trace.traceId && s.name === 'tools/call shop__menu');
      expect(span.parentSpanId).toBe(trace.parentId);
      expect(typeof span.attributes['mcp.session.id']).toBe('string');
    } finally {
      await client.close();
    }
  });
});

describe('traces configured by the standard OTEL_* variables', () => {
  it('OTEL_EXPORTER_OTLP_ENDPOINT turns them on without a telemetry block; OTEL_SDK_DISABLED=true turns them off', async () => {
    const lines = (dir: string): string[] => ['plugins:', `  - path: ${shop}`, `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`];
    const on = await serveConfig(lines, {
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-env-key=from-the-environment', OTEL_SERVICE_NAME: 'shop-gateway', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' },
    });
    const off = await serveConfig(lines, { env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SDK_DISABLED: 'true' } });
    const traced = newTraceparent();
    const untraced = newTraceparent();
    try {
      for (const [target, trace] of [[on, traced], [off, untraced]] as const) {
        const client = await connectClient('http-2026', { url: target.url });
        try {
          await client.callTool({ name: 'shop__menu', arguments: {}, _meta: { traceparent: trace.header } });
        } finally {
          await client.close();
        }
      }
    } finally {
      // Stopping a server sends what it has buffered.
      await Promise.all([on.stop(), off.stop()]);
    }
    const span = await receiver.waitFor((s) => s.traceId === traced.traceId && s.kind === serverKind);
    expect(span.resource['service.name']).toBe('shop-gateway');
    const fromEnv = receiver.headers.findIndex((headers) => headers['x-env-key'] === 'from-the-environment');
    expect(fromEnv).toBeGreaterThanOrEqual(0);
    // OTEL_EXPORTER_OTLP_PROTOCOL=http/json picks the JSON encoding.
    expect(receiver.contentTypes[fromEnv]).toMatch(/^application\/json/);
    expect(receiver.spans.filter((s) => s.traceId === untraced.traceId)).toEqual([]);
  });
});

describe('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', () => {
  it('turns traces on without a telemetry block, and is used as the full URL of the traces (as OTLP defines it)', async () => {
    const lines = (dir: string): string[] => ['plugins:', `  - path: ${shop}`, `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`];
    // The receiver answers 404 anywhere but /v1/traces: a URL changed on the way would lose the spans.
    const traced = await serveConfig(lines, { env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_BSP_SCHEDULE_DELAY: '100' } });
    const trace = newTraceparent();
    try {
      const client = await connectClient('http-2026', { url: traced.url });
      try {
        expect(textOf(await client.callTool({ name: 'shop__menu', arguments: {}, _meta: { traceparent: trace.header } }))).toBe('burger, fries, shake');
      } finally {
        await client.close();
      }
      const span = await receiver.waitFor((s) => s.traceId === trace.traceId && s.kind === serverKind);
      expect(span.name).toBe('tools/call shop__menu');
      expect(traced.stderr()).toContain('sending traces over OTLP/HTTP');
    } finally {
      await traced.stop();
    }
  });
});

describe('the OpenTelemetry SDK without an endpoint', () => {
  // What a real server process imports is recorded by a module resolve hook (node:module
  // register) loaded with --import: the record of the process itself, not of this test's.
  const hooks = useTempDir('toolport-imports-', 'all');
  beforeAll(async () => {
    await writeFile(
      join(hooks.path, 'hooks.mjs'),
      [
        "import { appendFileSync } from 'node:fs';",
        'let log;',
        'export function initialize(data) { log = data.log; }',
        'export async function resolve(specifier, context, next) {',
        '  const resolved = await next(specifier, context);',
        "  if (resolved.url.includes('/@opentelemetry/') || resolved.url.includes('/prom-client/')) appendFileSync(log, resolved.url + '\\n');",
        '  return resolved;',
        '}',
      ].join('\n'),
    );
    await writeFile(
      join(hooks.path, 'register.mjs'),
      "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url, { data: { log: process.env.TOOLPORT_TEST_IMPORT_LOG } });\n",
    );
  });

  /** The @opentelemetry packages (and prom-client) a server imported while serving one call. */
  const importsOf = async (name: string, env: Record<string, string>): Promise<string[]> => {
    const log = join(hooks.path, `${name}.log`);
    await writeFile(log, '');
    const lines = (dir: string): string[] => ['plugins:', `  - path: ${shop}`, `    settings: { ledger: ${JSON.stringify(join(dir, 'ledger.txt'))} }`];
    const server = await serveConfig(lines, { env: { NODE_OPTIONS: `--import ${pathToFileURL(join(hooks.path, 'register.mjs')).href}`, TOOLPORT_TEST_IMPORT_LOG: log, ...env } });
    try {
      const client = await connectClient('http-2026', { url: server.url });
      try {
        expect(textOf(await client.callTool({ name: 'shop__menu', arguments: {} }))).toBe('burger, fries, shake');
      } finally {
        await client.close();
      }
    } finally {
      await server.stop();
    }
    const packages = (await readFile(log, 'utf8')).split('\n').flatMap((url) => /\/node_modules\/(@opentelemetry\/[^/]+|prom-client)\//.exec(url)?.[1] ?? []);
    return [...new Set(packages)].sort();
  };

  it('is not loaded: the server imports none of OpenTelemetry (nor prom-client, without approvals.admin); with an endpoint, the same record shows the SDK and exporter', async () => {
    const noEndpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
    const without = await importsOf('without', noEndpoint);
    const withEndpoint = await importsOf('with', { ...noEndpoint, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    // The hook works: with an endpoint it sees the SDK being loaded.
    expect(withEndpoint).toEqual(expect.arrayContaining(['@opentelemetry/sdk-trace-base', '@opentelemetry/exporter-trace-otlp-proto']));
    expect(without).toEqual([]);
  }, 60_000);
});

describe('telemetry off (the default)', () => {
  it('without an admin listener or an OTLP endpoint there is no monitor and no request scope: the call path pays nothing', async () => {
    const telemetry = await createTelemetry({ metrics: false, live: false, otlp: undefined, env: {}, serviceName: 'toolport', version: '0', logger: createSilentLogger() });
    expect(telemetry.tracing).toBe(false);
    expect(telemetry.monitor).toBeUndefined();
    expect(telemetry.request({ method: 'tools/call', target: 'x', requestId: 1, transport: 'stdio' })).toBeUndefined();
    const toolport = await createToolport(parseConfig({ plugins: [{ path: shop, settings: { ledger: '/dev/null' } }] }));
    try {
      expect(toolport.telemetry.monitor).toBeUndefined();
      expect(toolport.telemetry.metrics).toBeUndefined();
    } finally {
      await toolport.close();
    }
  });
});

describe('the OTLP encoding', () => {
  it('is the config\'s protocol, else OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf; grpc is refused in the config and falls back with a warning from the environment', () => {
    expect(tracesProtocol(undefined, {})).toBe('http/protobuf');
    expect(tracesProtocol(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })).toBe('http/json');
    expect(tracesProtocol(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toBe('http/protobuf');
    expect(tracesProtocol({ protocol: 'http/json' }, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' })).toBe('http/json');
    const warnings: unknown[] = [];
    const logger = { ...createSilentLogger(), warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
    expect(tracesProtocol(undefined, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, logger)).toBe('http/protobuf');
    expect(JSON.stringify(warnings)).toContain('grpc');
    expect(() => parseConfig({ telemetry: { otlp: { endpoint: 'http://127.0.0.1:4318', protocol: 'grpc' } } })).toThrow(/telemetry\.otlp\.protocol.*http\/protobuf or http\/json/s);
  });
});
