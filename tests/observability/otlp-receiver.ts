import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

/**
 * A tiny OTLP/HTTP trace receiver for tests: what an OpenTelemetry Collector does with
 * `POST /v1/traces`, for both encodings the SDK speaks (`http/protobuf`, `http/json`), keeping every
 * span in memory. The protobuf messages are the subset of opentelemetry-proto's trace service that
 * spans need (field numbers as in opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto).
 */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
}
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
`;
const ExportRequest = protobuf.parse(OTLP_TRACE_PROTO).root.lookupType('ExportTraceServiceRequest');

/** OTLP span kinds (SpanKind enum). */
export const KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

export interface ReceivedSpan {
  service: string;
  resource: Record<string, unknown>;
  scope: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  attributes: Record<string, unknown>;
}

type AnyValue = Record<string, unknown> | undefined;
interface KeyValue {
  key: string;
  value?: AnyValue;
}

function valueOf(value: AnyValue): unknown {
  if (!value) return undefined;
  for (const key of ['stringValue', 'boolValue', 'doubleValue']) if (key in value) return value[key];
  if ('intValue' in value) return Number(value.intValue);
  if ('arrayValue' in value) return ((value.arrayValue as { values?: AnyValue[] }).values ?? []).map(valueOf);
  return undefined;
}

const attributesOf = (list: KeyValue[] = []) => Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

/** Hex ids from either encoding: OTLP/JSON sends hex strings, protobufjs gives bytes (here base64). */
function hexId(id: unknown, encoding: 'json' | 'protobuf'): string {
  if (typeof id !== 'string' || id === '') return '';
  return encoding === 'json' ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');
}

interface ExportRequestBody {
  resourceSpans?: Array<{
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: Array<{ scope?: { name?: string }; spans?: Array<Record<string, unknown>> }>;
  }>;
}

function spansOf(body: ExportRequestBody, encoding: 'json' | 'protobuf'): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap(({ resource, scopeSpans }) => {
    const resourceAttributes = attributesOf(resource?.attributes);
    return (scopeSpans ?? []).flatMap(({ scope, spans }) =>
      (spans ?? []).map((span) => ({
        service: String(resourceAttributes['service.name']),
        resource: resourceAttributes,
        scope: scope?.name ?? '',
        traceId: hexId(span.traceId, encoding),
        spanId: hexId(span.spanId, encoding),
        parentSpanId: hexId(span.parentSpanId, encoding),
        name: String(span.name),
        kind: Number(span.kind ?? 0),
        startNs: BigInt(String(span.startTimeUnixNano)),
        endNs: BigInt(String(span.endTimeUnixNano)),
        attributes: attributesOf(span.attributes as KeyValue[]),
      })),
    );
  });
}

async function bodyOf(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
}

export interface OtlpReceiver {
  /** The base URL to give as OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** The content types of the export requests received, by service. */
  encodings: Map<string, Set<string>>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const encodings = new Map<string, Set<string>>();
  /** Answers every request itself, errors included. */
  const receive = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.writeHead(404).end();
      return;
    }
    const contentType = String(req.headers['content-type'] ?? '');
    const encoding = contentType.startsWith('application/x-protobuf') ? 'protobuf' : 'json';
    try {
      const raw = await bodyOf(req);
      const body = (
        encoding === 'json'
          ? JSON.parse(raw.toString('utf8'))
          : ExportRequest.toObject(ExportRequest.decode(raw), { longs: String, bytes: String, defaults: false })
      ) as ExportRequestBody;
      const received = spansOf(body, encoding);
      spans.push(...received);
      for (const span of received) {
        if (!encodings.has(span.service)) encodings.set(span.service, new Set());
        encodings.get(span.service)!.add(encoding);
      }
      res.writeHead(200, { 'Content-Type': contentType }).end(encoding === 'json' ? '{}' : undefined);
    } catch (error) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(String(error));
    }
  };
  const server = createServer((req, res) => void receive(req, res));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    encodings,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
