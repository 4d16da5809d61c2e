// A real OTLP/HTTP trace receiver for tests: a loopback server that accepts both encodings at
// POST /v1/traces — protobuf (`application/x-protobuf`, toolport's default) and JSON — and
// decodes each export into spans with their attributes as plain values. The protobuf reader
// below knows only the fields of ExportTraceServiceRequest the tests look at.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, string | number | boolean>>;
  readonly status: { code?: number; message?: string };
  readonly resource: Readonly<Record<string, string | number | boolean>>;
}

export interface OtlpReceiver {
  /** Base URL (for `telemetry.otlp.endpoint`). */
  readonly url: string;
  readonly spans: readonly ReceivedSpan[];
  /** Content types of the exports received. */
  readonly contentTypes: readonly string[];
  /** The request headers of each export, in order. */
  readonly headers: readonly Readonly<Record<string, string | string[] | undefined>>[];
  /** Waits until a span matches (default 15 s). */
  waitFor(match: (span: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>;
  close(): Promise<void>;
}

type AnyValue = { stringValue?: string; intValue?: string | number; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value: AnyValue };

function plain(attributes: readonly KeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of attributes ?? []) {
    if (value.stringValue !== undefined) out[key] = value.stringValue;
    else if (value.intValue !== undefined) out[key] = Number(value.intValue);
    else if (value.doubleValue !== undefined) out[key] = value.doubleValue;
    else if (value.boolValue !== undefined) out[key] = value.boolValue;
  }
  return out;
}

interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: KeyValue[]; status?: { code?: number; message?: string } }[] }[];
  }[];
}

// Protobuf wire format: each field is a varint key (number << 3 | wire type) and a value.
type WireValue = bigint | Buffer;
function readFields(bytes: Buffer): Map<number, WireValue[]> {
  const fields = new Map<number, WireValue[]>();
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = bytes[at++];
      if (byte === undefined) throw new Error('protobuf: truncated varint');
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const field = key >>> 3;
    const wire = key & 7;
    let value: WireValue;
    if (wire === 0) value = varint();
    else if (wire === 1 || wire === 5) {
      value = bytes.subarray(at, at + (wire === 1 ? 8 : 4));
      at += value.length;
    } else if (wire === 2) {
      const length = Number(varint());
      value = bytes.subarray(at, at + length);
      at += length;
    } else throw new Error(`protobuf: unexpected wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}
const bytesOf = (fields: Map<number, WireValue[]>, field: number): Buffer[] => (fields.get(field) ?? []).filter((value): value is Buffer => Buffer.isBuffer(value));
const textOf = (fields: Map<number, WireValue[]>, field: number): string | undefined => bytesOf(fields, field)[0]?.toString('utf8');
const numberOf = (fields: Map<number, WireValue[]>, field: number): number | undefined => {
  const value = fields.get(field)?.[0];
  return typeof value === 'bigint' ? Number(BigInt.asIntN(64, value)) : undefined;
};

/** KeyValue { 1 key; 2 AnyValue { 1 string, 2 bool, 3 int, 4 double } } as JSON's shape. */
function keyValuesOf(encoded: Buffer[]): KeyValue[] {
  return encoded.map((entry) => {
    const fields = readFields(entry);
    const any = readFields(bytesOf(fields, 2)[0] ?? Buffer.alloc(0));
    const value: AnyValue = {};
    if (any.has(1)) value.stringValue = textOf(any, 1) ?? '';
    else if (any.has(2)) value.boolValue = numberOf(any, 2) === 1;
    else if (any.has(3)) value.intValue = numberOf(any, 3) ?? 0;
    else if (any.has(4)) value.doubleValue = bytesOf(any, 4)[0]?.readDoubleLE(0) ?? 0;
    return { key: textOf(fields, 1) ?? '', value };
  });
}

/** ExportTraceServiceRequest { 1 ResourceSpans { 1 Resource { 1 attributes }; 2 ScopeSpans { 2 Span } } } as JSON's shape. */
export function decodeProtobufExport(body: Buffer): ExportRequest {
  const request = readFields(body);
  return {
    resourceSpans: bytesOf(request, 1).map((encodedResourceSpans) => {
      const resourceSpans = readFields(encodedResourceSpans);
      const resource = readFields(bytesOf(resourceSpans, 1)[0] ?? Buffer.alloc(0));
      return {
        resource: { attributes: keyValuesOf(bytesOf(resource, 1)) },
        scopeSpans: bytesOf(resourceSpans, 2).map((encodedScope) => ({
          spans: bytesOf(readFields(encodedScope), 2).map((encodedSpan) => {
            // Span { 1 trace_id; 2 span_id; 4 parent_span_id; 5 name; 6 kind; 9 attributes; 15 status { 2 message; 3 code } }
            const span = readFields(encodedSpan);
            const status = readFields(bytesOf(span, 15)[0] ?? Buffer.alloc(0));
            const message = textOf(status, 2);
            const code = numberOf(status, 3);
            return {
              traceId: bytesOf(span, 1)[0]?.toString('hex') ?? '',
              spanId: bytesOf(span, 2)[0]?.toString('hex') ?? '',
              parentSpanId: bytesOf(span, 4)[0]?.toString('hex'),
              name: textOf(span, 5) ?? '',
              kind: numberOf(span, 6) ?? 0,
              attributes: keyValuesOf(bytesOf(span, 9)),
              status: { ...(code !== undefined && { code }), ...(message !== undefined && { message }) },
            };
          }),
        })),
      };
    }),
  };
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const headers: Record<string, string | string[] | undefined>[] = [];
  const problems: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const contentType = req.headers['content-type'] ?? '';
      contentTypes.push(contentType);
      headers.push({ ...req.headers });
      const raw = Buffer.concat(chunks);
      let body: ExportRequest;
      try {
        body = contentType.startsWith('application/x-protobuf') ? decodeProtobufExport(raw) : (JSON.parse(raw.toString('utf8')) as ExportRequest);
      } catch (error) {
        // A body that cannot be read fails the waiting test (with why), not the whole run.
        problems.push(`export ${contentTypes.length} (${contentType}): ${(error as Error).message}`);
        res.writeHead(400).end();
        return;
      }
      for (const resourceSpans of body.resourceSpans ?? []) {
        const resource = plain(resourceSpans.resource?.attributes);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              name: span.name,
              kind: span.kind,
              attributes: plain(span.attributes),
              status: span.status ?? {},
              resource,
            });
          }
        }
      }
      // An empty ExportTraceServiceResponse in the request's encoding.
      if (contentType.startsWith('application/x-protobuf')) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    headers,
    async waitFor(match, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        const found = spans.find(match);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const unread = problems.length > 0 ? `; exports that could not be read: ${problems.join('; ')}` : '';
      throw new Error(`no matching span within ${timeoutMs} ms; received: ${spans.map((span) => span.name).join(', ') || 'none'}${unread}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
