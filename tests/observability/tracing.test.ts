import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@fibstack/devstack/testkit';
import { startObservedStack, type ObservedStack } from './observed-stack.js';
import { KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';

/**
 * One submission through the real native stack (API and worker processes, Postgres, Redis) with
 * tracing pointed at an in-process OTLP receiver: the server exports http/protobuf, the worker
 * http/json, and one trace must show the whole path, from the POST to the SSE delivery.
 */
const INDEX = 20_001; // above INLINE_MAX_INDEX: computed on the thread pool
let receiver: OtlpReceiver;
let observed: ObservedStack;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  observed = await startObservedStack({
    env: {
      LOG_LEVEL: 'info',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      // As the images set it (server/ and worker/Dockerfile): the commit they were built from.
      FIBSTACK_VERSION: 'test-1.2.3',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
      // Export every 100 ms instead of every 5 s, so the test does not wait for the batch.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    },
    serviceEnv: { worker: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' } },
  });
});

afterAll(async () => {
  await observed?.stop();
  await receiver?.close();
});

/** Reads SSE frames from /api/events until the result event of `index` arrives. */
async function resultEvent(stream: Response, index: number): Promise<string> {
  const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  while (!text.includes(`"index":${index},`)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before the event of ${index}: ${text}`);
    text += value;
  }
  await reader.cancel();
  return text;
}

describe('one submission, one trace', () => {
  let requestId: string;
  let trace: ReceivedSpan[];
  const one = (predicate: (span: ReceivedSpan) => boolean, what: string) => {
    const found = trace.filter(predicate);
    expect(found, what).toHaveLength(1);
    return found[0]!;
  };

  beforeAll(async () => {
    const stream = await fetch(`${observed.stack.url}/api/events`);
    const event = resultEvent(stream, INDEX);
    const response = await fetch(`${observed.stack.url}/api/values`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ index: INDEX }),
    });
    expect(response.status).toBe(202);
    requestId = response.headers.get('x-request-id')!;
    await event;
    // A span is exported once it ends, after its children: the trace is whole once the outermost span of
    // each process has arrived (the HTTP request, the job) and the SSE delivery, which comes last.
    const traceId = () =>
      receiver.spans.find((span) => span.name === 'enqueue fibonacci' && span.attributes['messaging.message.id'] === `fib-${INDEX}`)
        ?.traceId;
    const arrived = (predicate: (span: ReceivedSpan) => boolean) =>
      receiver.spans.some((span) => span.traceId === traceId() && predicate(span));
    await eventually(
      () =>
        arrived((span) => span.parentSpanId === '') &&
        arrived((span) => span.name === 'process fibonacci') &&
        arrived((span) => span.name === 'sse deliver'),
      30_000,
      'the spans of the submission',
    );
    trace = receiver.spans.filter((span) => span.traceId === traceId());
  });

  it('links the HTTP request, the queue add, the job, the computation, the insert, the publish and the SSE delivery', () => {
    const http = one((span) => span.parentSpanId === '', 'the root span');
    expect(http).toMatchObject({ service: 'fibstack-server', kind: KIND.SERVER, name: 'POST /api/values' });
    expect(http.attributes).toMatchObject({ 'http.route': '/api/values' });
    const byId = new Map(trace.map((span) => [span.spanId, span]));
    const ancestors = (span: ReceivedSpan): ReceivedSpan[] => {
      const parent = byId.get(span.parentSpanId);
      return parent ? [parent, ...ancestors(parent)] : [];
    };

    const handler = one((span) => span.name === 'route /api/values', 'the route handler');
    expect(handler.parentSpanId).toBe(http.spanId);
    const enqueue = one((span) => span.name === 'enqueue fibonacci', 'the enqueue span');
    expect(enqueue).toMatchObject({ service: 'fibstack-server', kind: KIND.PRODUCER, parentSpanId: handler.spanId });
    expect(one((span) => span.name.startsWith('pg.query:submit-values'), 'the submission INSERT').parentSpanId).toBe(handler.spanId);
    expect(ancestors(enqueue)).toContain(http);
    const add = one((span) => span.name === 'addBulk fibonacci', "BullMQ's add");
    expect(add).toMatchObject({ kind: KIND.PRODUCER, parentSpanId: enqueue.spanId });

    // The context crossed Redis inside the job: the worker's job span is a child of the request's enqueue.
    const job = one((span) => span.name === 'process fibonacci', 'the job span');
    expect(job).toMatchObject({ service: 'fibstack-worker', kind: KIND.CONSUMER, parentSpanId: enqueue.spanId });
    const compute = one((span) => span.name === 'fibonacci compute', 'the computation');
    expect(compute).toMatchObject({
      parentSpanId: job.spanId,
      attributes: { 'fibstack.index': INDEX, 'fibstack.compute.on_thread': true },
    });
    const insert = one((span) => span.name === 'results insert', 'the result insert');
    expect(insert.parentSpanId).toBe(job.spanId);
    const sql = one(
      (span) => span.service === 'fibstack-worker' && span.name.startsWith('pg.query:insert-results'),
      'the INSERT statement',
    );
    expect(sql.parentSpanId).toBe(insert.spanId);
    const publish = one((span) => span.name === 'results publish', 'the publish');
    expect(publish).toMatchObject({ kind: KIND.PRODUCER, parentSpanId: job.spanId });
    expect(one((span) => span.name === 'publish', 'the Redis PUBLISH').parentSpanId).toBe(publish.spanId);

    const delivery = one((span) => span.name === 'sse deliver', 'the SSE delivery');
    expect(delivery).toMatchObject({ service: 'fibstack-server', kind: KIND.CONSUMER, parentSpanId: publish.spanId });
    expect(delivery.attributes['fibstack.sse.clients']).toBeGreaterThanOrEqual(1);

    // In each process the steps start in this order. (The SDK stamps a span's start with Date.now(),
    // whole milliseconds, and its end as start + measured duration, so only starts compare exactly.)
    const starts = (spans: ReceivedSpan[]) => spans.map((span) => span.startNs);
    const sorted = (values: bigint[]) => [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(starts([http, enqueue, add])).toEqual(sorted(starts([http, enqueue, add])));
    expect(starts([job, compute, insert, publish])).toEqual(sorted(starts([job, compute, insert, publish])));
  });

  it('names each service with its version and environment, exporting in the protocol each was told', () => {
    const services = new Map(trace.map((span) => [span.service, span.resource]));
    expect([...services.keys()].sort()).toEqual(['fibstack-server', 'fibstack-worker']);
    for (const resource of services.values()) {
      expect(resource).toMatchObject({ 'service.version': 'test-1.2.3', 'deployment.environment.name': 'test' });
    }
    expect(receiver.encodings.get('fibstack-server')).toEqual(new Set(['protobuf']));
    expect(receiver.encodings.get('fibstack-worker')).toEqual(new Set(['json']));
  });

  it('puts the trace id in every log line of the request and of the job', async () => {
    const traceId = trace[0]!.traceId;
    const server = (await observed.logLines('server')).filter((line) => (line.req as { id?: string } | undefined)?.id === requestId);
    const worker = (await observed.logLines('worker')).filter((line) => line.requestId === requestId);
    expect(server.length).toBeGreaterThan(0);
    expect(worker.map((line) => line.msg)).toContain('value computed');
    for (const line of [...server, ...worker])
      expect(line).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('traces no probe or scrape, and no BullMQ polling', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${observed.stack.serverUrl}${path}`)).status).toBe(200);
    const marker = await fetch(`${observed.stack.url}/api/values/${INDEX}`);
    expect(marker.status).toBe(200);
    await eventually(() => receiver.spans.some((span) => span.name === 'GET /api/values/:index'), 30_000, 'the marker request span');
    const names = new Set(receiver.spans.map((span) => span.name));
    for (const name of names) expect(name).not.toMatch(/healthz|readyz|metrics|getNextJob|moveStalledJobsToWait/);
  });
});
