import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RESULTS_CHANNEL, TRACE_CONTEXT_KEY, traceContextSchema } from '@fibstack/contract/jobs';
import { parseJson } from '@fibstack/contract/json';
import { resultEventSchema } from '@fibstack/contract/values';
import { SpanKind, traced } from '@fibstack/service-kit/tracing/spans';
import { TRACING } from '@fibstack/service-kit/tracing/switch';
import { HttpError } from '../http/errors.js';

/** A client that lets this much pile up unread is stalled; its browser reconnects and refetches. */
const MAX_BUFFERED_BYTES = 1_000_000;

/**
 * Relays the worker's result announcements (Redis pub/sub) to every browser connected to
 * `GET /api/events`. One subscriber connection serves all clients of this process.
 */
export class EventsHub {
  private readonly clients = new Set<Response>();
  private readonly resultListeners: Array<(index: number) => void> = [];
  private readonly heartbeat: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly subscriber: Redis,
    private readonly logger: Logger,
    heartbeatMs: number,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === RESULTS_CHANNEL) this.relay(message);
    });
    // A comment line keeps proxies and load balancers from closing an idle stream.
    this.heartbeat = setInterval(() => this.broadcast(': ping\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  /** Subscribes to the results channel; ioredis re-subscribes by itself after a reconnect. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(RESULTS_CHANNEL);
  }

  /** Calls `listener` with the index of every result announced (the submit → stored metric). */
  onResult(listener: (index: number) => void): void {
    this.resultListeners.push(listener);
  }

  /** How many streams are open now. */
  get size(): number {
    return this.clients.size;
  }

  /** Turns the response into an event stream that lasts until the client goes away or we shut down. */
  attach(res: Response): void {
    // A keep-alive connection can still ask for a stream after close(); it would hold shutdown up.
    if (this.closed) throw new HttpError('service_unavailable', 'this instance is shutting down');
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  /** Only a well-formed ResultEvent is relayed, re-serialised, so no message can break the SSE framing. */
  private relay(message: string): void {
    // Under load results arrive by the thousand a second, mostly with no browser watching: then the
    // listeners' index is all that is needed, and validating the whole event would cost more (npm run bench).
    if (this.clients.size === 0 && this.resultListeners.length === 0) return;
    const json = parseJson(message);
    if (this.clients.size === 0) {
      const index = (json as { index?: unknown } | undefined)?.index;
      if (typeof index === 'number') for (const listener of this.resultListeners) listener(index);
      return;
    }
    const event = resultEventSchema.safeParse(json);
    if (!event.success) return void this.logger.warn({ message: message.slice(0, 200) }, 'ignored a malformed result event');
    for (const listener of this.resultListeners) listener(event.data.index);
    const frame = `event: result\ndata: ${JSON.stringify(event.data)}\n\n`;
    const carrier = TRACING ? traceContextSchema.safeParse((json as Record<string, unknown>)[TRACE_CONTEXT_KEY]) : undefined;
    if (!carrier?.success) return this.broadcast(frame);
    // The delivery joins the submission's trace, as a child of the worker's publish.
    void traced(
      'sse deliver',
      {
        kind: SpanKind.CONSUMER,
        parent: carrier.data,
        attributes: { 'fibstack.index': event.data.index, 'fibstack.sse.clients': this.clients.size },
      },
      () => this.broadcast(frame),
    );
  }

  private broadcast(frame: string): void {
    for (const client of this.clients) {
      if (client.writableLength > MAX_BUFFERED_BYTES) client.destroy();
      else client.write(frame);
    }
  }

  /** Ends every stream (browsers reconnect to another replica) and stops listening. */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
    // Not quit(): with Redis away it would wait for a reconnect that may never come.
    this.subscriber.disconnect();
  }
}
