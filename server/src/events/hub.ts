import type { Request, Response } from 'express';
import type pg from 'pg';
import type { Logger } from 'pino';
import { RESULTS_CHANNEL, TRACE_CONTEXT_KEY, traceContextSchema } from '@fibstack/contract/jobs';
import { parseJson } from '@fibstack/contract/json';
import type { StreamReady } from '@fibstack/contract/values';
import { onMessage, onResubscribed, subscribe, type RedisClient } from '@fibstack/service-kit/redis';
import { SpanKind, traced, type TraceCarrier } from '@fibstack/service-kit/tracing/spans';
import { TRACING } from '@fibstack/service-kit/tracing/switch';
import type { ServerConfig } from '../config.js';
import { HttpError } from '../http/errors.js';
import { lastEventIdOf } from './last-event-id.js';
import { ResultsFeed, type StoredResultEvent } from './results-feed.js';

/** A client that lets this much pile up unread is stalled; its browser reconnects and resumes. */
const MAX_BUFFERED_BYTES = 1_000_000;
/** Results replayed to a reconnecting stream at most; one further behind is told to refetch instead. */
const MAX_REPLAY = 1_000;
/** Results read per query; a full batch is followed at once by the next. */
const READ_BATCH = 500;
/** Trace contexts of announced results kept until their delivery (tracing on, streams open). */
const MAX_TRACED = 10_000;
/** Retry-After of a refused stream: a client's own streams end within the lifetime; a full process sheds load. */
const RETRY_AFTER_SECONDS = { too_many_streams: 10, streams_at_capacity: 5 } as const;

type HubSettings = Pick<ServerConfig, 'SSE_HEARTBEAT_MS' | 'SSE_MAX_STREAMS' | 'SSE_MAX_STREAMS_PER_CLIENT' | 'SSE_STREAM_LIFETIME_MS'>;

interface Stream {
  res: Response;
  /** The client address the per-client cap counts it under (`req.ip`). */
  client: string;
  /** The id of the last result this stream has had (or had before it reconnected); undefined: a new stream. */
  cursor: number | undefined;
  /** Headers sent: it takes part in deliveries. Until then it waits for its place to be read. */
  open: boolean;
  /** Settles `attach`: opened, refused by a failed read, or the request went away. */
  settle: (error?: Error) => void;
  lifetime?: NodeJS.Timeout;
}

/**
 * `GET /api/events` for every browser connected to this process. Postgres is the source of what is sent:
 * a result is sent when it is read from the results table, by id (ids grow in the order commits become
 * visible, migration 002), never from the Redis announcement, which is only a wake-up. Pub/sub is
 * at-most-once, so nothing depends on an announcement arriving:
 * - the hub reads `id > watermark` whenever a result is announced, one read in flight at a time, the
 *   announcements that arrive meanwhile coalesced into one more read;
 * - when its subscriber connection comes back after a break it reads, which sends what was announced
 *   while it was away;
 * - every heartbeat it reads too, which sends a result whose announcement never happened at all;
 * - with no stream open it reads nothing, and an announcement costs only its index (the listeners).
 * Every result carries its id (`id:`), so a browser that reconnects (Last-Event-ID) is sent what it
 * missed, whichever replica it reaches. One subscriber connection serves all clients of this process.
 */
export class EventsHub {
  private readonly feed: ResultsFeed;
  private readonly streams = new Set<Stream>();
  private readonly joining: Stream[] = [];
  private readonly perClient = new Map<string, number>();
  private readonly resultListeners: Array<(index: number) => void> = [];
  private readonly heartbeat: NodeJS.Timeout;
  /** Every result up to this id has been sent to the open streams; undefined while none is open. */
  private watermark: number | undefined;
  private reading = false;
  private readAgain = false;
  private readFailing = false;
  /** Tracing: announcements' trace contexts by index, and deliveries that came before their announcement. */
  private readonly carriers = new Map<number, TraceCarrier>();
  private readonly deliveredUntraced = new Map<number, number>();
  private closed = false;

  constructor(
    private readonly subscriber: RedisClient,
    pool: pg.Pool,
    private readonly logger: Logger,
    private readonly settings: HubSettings,
  ) {
    this.feed = new ResultsFeed(pool);
    onMessage(subscriber, (channel, message) => {
      if (channel === RESULTS_CHANNEL) this.announced(message);
    });
    onResubscribed(subscriber, RESULTS_CHANNEL, () => this.resubscribed());
    this.heartbeat = setInterval(() => {
      // A comment line keeps proxies and load balancers from closing an idle stream.
      this.writeToOpen(': ping\n\n');
      if (this.streams.size > 0) this.read();
    }, settings.SSE_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /** Subscribes to the results channel (sharded on a Redis Cluster); ioredis re-subscribes by itself after a reconnect. */
  async start(): Promise<void> {
    await subscribe(this.subscriber, RESULTS_CHANNEL);
  }

  /** Calls `listener` with the index of every result announced (the submit → stored metric). */
  onResult(listener: (index: number) => void): void {
    this.resultListeners.push(listener);
  }

  /** How many streams are open or opening now. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * Turns the response into an event stream that lasts until the client goes away, its lifetime ends or
   * we shut down. Resolves once the stream is open; rejects (nothing sent yet) when it is refused.
   */
  attach(req: Request, res: Response): Promise<void> {
    // A keep-alive connection can still ask for a stream after close(); it would hold shutdown up.
    if (this.closed) throw new HttpError('service_unavailable', 'this instance is shutting down');
    const cursor = lastEventIdOf(req);
    const client = req.ip ?? 'unknown';
    if (this.streams.size >= this.settings.SSE_MAX_STREAMS) {
      return this.refuse(res, 'streams_at_capacity', `this instance holds ${this.settings.SSE_MAX_STREAMS} event streams, its most`);
    }
    if ((this.perClient.get(client) ?? 0) >= this.settings.SSE_MAX_STREAMS_PER_CLIENT) {
      return this.refuse(res, 'too_many_streams', `at most ${this.settings.SSE_MAX_STREAMS_PER_CLIENT} event streams per client at once`);
    }
    return new Promise<void>((resolve, reject) => {
      const stream: Stream = { res, client, cursor, open: false, settle: (error) => (error ? reject(error) : resolve()) };
      this.streams.add(stream);
      this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
      res.on('close', () => {
        this.remove(stream);
        stream.settle();
      });
      this.joining.push(stream);
      this.read();
    });
  }

  private refuse(res: Response, code: keyof typeof RETRY_AFTER_SECONDS, message: string): never {
    res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS[code]));
    throw new HttpError(code, `${message}; try again shortly`);
  }

  private remove(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    clearTimeout(stream.lifetime);
    const held = this.perClient.get(stream.client)! - 1;
    if (held === 0) this.perClient.delete(stream.client);
    else this.perClient.set(stream.client, held);
  }

  /** An announcement wakes the reader; its content is never sent (only what Postgres holds is). */
  private announced(message: string): void {
    const watched = this.streams.size > 0;
    if (watched) this.read();
    // Under load results arrive by the thousand a second, mostly with no browser watching: then the
    // listeners' index is all that is taken from an announcement (npm run bench).
    if (this.resultListeners.length === 0 && !(TRACING && watched)) return;
    const json = parseJson(message) as Record<string, unknown> | undefined;
    const index = json?.index;
    if (typeof index !== 'number') return;
    for (const listener of this.resultListeners) listener(index);
    if (TRACING && watched) this.traceAnnounced(index, json![TRACE_CONTEXT_KEY]);
  }

  /**
   * The subscription is back after a break (a Redis restart, a failover, a network break): whatever was
   * announced while it was away is lost, so read. The subscription is in place by now (onResubscribed),
   * so no announcement falls between the read and the subscription.
   */
  private resubscribed(): void {
    if (this.streams.size > 0) this.read();
  }

  /**
   * Reads what the streams need from Postgres: one read in flight at a time, any further call coalesced.
   * It starts after the current turn, so the announcements Redis delivered in one packet (the worker
   * stores results in batches) share one read.
   */
  private read(): void {
    if (this.closed) return;
    if (this.reading) return void (this.readAgain = true);
    this.reading = true;
    setImmediate(() => void this.readUntilCaughtUp());
  }

  private async readUntilCaughtUp(): Promise<void> {
    try {
      do {
        this.readAgain = false;
        await this.readOnce();
      } while (this.readAgain && !this.closed);
      if (this.readFailing) this.logger.info('event streams read the results again');
      this.readFailing = false;
    } catch (caught) {
      const error = caught instanceof Error ? caught : new Error(String(caught));
      // A stream waiting to open is refused (503 when Postgres is away); open ones wait for the next
      // announcement or heartbeat, which reads again from the same watermark, so nothing is skipped.
      for (const stream of this.joining.splice(0)) {
        this.remove(stream);
        stream.settle(error);
      }
      if (!this.readFailing) this.logger.warn({ err: error }, 'event streams could not read the results');
      this.readFailing = true;
    } finally {
      // In the same turn as the last check of readAgain: a call to read() from now on starts a new read.
      this.reading = false;
    }
  }

  private async readOnce(): Promise<void> {
    // With no stream open there is nothing to continue from: start again at the latest result.
    if (![...this.streams].some((stream) => stream.open)) this.watermark = undefined;
    if (this.streams.size === 0) return;
    let latest: number | undefined;
    if (this.watermark === undefined) latest = this.watermark = await this.feed.latestId();
    const joining = this.joining.splice(0).filter((stream) => this.streams.has(stream));
    try {
      await this.openAll(joining, this.watermark, latest);
    } catch (error) {
      // Not opened yet: they are refused with the others that wait (see readUntilCaughtUp).
      this.joining.unshift(...joining.filter((stream) => !stream.open && this.streams.has(stream)));
      throw error;
    }
    const rows = await this.feed.after(this.watermark, READ_BATCH);
    if (rows.length === 0) return;
    this.deliver(rows);
    this.watermark = rows.at(-1)!.id;
    if (rows.length === READ_BATCH) this.readAgain = true;
  }

  /**
   * Opens the streams that wait, each from its place (every stream has its own, so none is sent a
   * result twice or skips one, whatever the watermark): a new one at the latest result; one resuming
   * within reach is first sent every result after its Last-Event-ID (one read per distinct id: the
   * streams a replica dropped together share it); one too far behind, or resuming from an id this
   * database never gave, starts at the latest result and is told it was not resumed.
   */
  private async openAll(joining: Stream[], watermark: number, latestRead?: number): Promise<void> {
    let latest = latestRead;
    const latestId = async () => (latest ??= await this.feed.latestId());
    const byCursor = new Map<number | undefined, Stream[]>();
    for (const stream of joining) byCursor.set(stream.cursor, [...(byCursor.get(stream.cursor) ?? []), stream]);
    for (const [cursor, streams] of byCursor) {
      // Ahead of this replica's watermark is fine (another replica has read further), ahead of the database is not.
      const known = cursor !== undefined && (cursor <= watermark || cursor <= (await latestId()));
      const missed = known ? await this.feed.after(cursor, MAX_REPLAY + 1) : [];
      if (known && missed.length <= MAX_REPLAY) {
        for (const stream of streams) this.open(stream, cursor, true, missed);
      } else {
        const from = await latestId();
        for (const stream of streams) this.open(stream, from, false, []);
      }
    }
  }

  private open(stream: Stream, from: number, resumed: boolean, missed: StoredResultEvent[]): void {
    if (!this.streams.has(stream)) return;
    stream.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const ready: StreamReady = { resumed };
    // The id from the very first frame: a browser whose stream ends before any result still resumes.
    stream.res.write(`retry: 3000\n\nid: ${from}\nevent: ready\ndata: ${JSON.stringify(ready)}\n\n`);
    stream.cursor = from;
    stream.open = true;
    if (missed.length > 0) this.deliver(missed, [stream], false);
    // Browsers reconnect by themselves when a stream ends; spread out, so streams opened together
    // (after a deploy) do not all come back at the same moment.
    stream.lifetime = setTimeout(() => stream.res.end(), this.settings.SSE_STREAM_LIFETIME_MS * (0.8 + 0.2 * Math.random()));
    stream.lifetime.unref();
    stream.settle();
  }

  /** Sends each result, in id order, to every open stream that has not had it yet (`live`: as it is stored). */
  private deliver(rows: StoredResultEvent[], to: Iterable<Stream> = this.streams, live = true): void {
    const frames = rows.map(({ id, event }) => `id: ${id}\nevent: result\ndata: ${JSON.stringify(event)}\n\n`);
    const all = frames.join('');
    const lastId = rows.at(-1)!.id;
    let clients = 0;
    for (const stream of to) {
      if (!stream.open || stream.cursor! >= lastId) continue;
      const first = stream.cursor! < rows[0]!.id ? 0 : rows.findIndex(({ id }) => id > stream.cursor!);
      this.write(stream, first === 0 ? all : frames.slice(first).join(''));
      stream.cursor = lastId;
      clients++;
    }
    if (TRACING && live) for (const { event } of rows) this.traceDelivered(event.index, clients);
  }

  private writeToOpen(text: string): void {
    for (const stream of this.streams) if (stream.open) this.write(stream, text);
  }

  private write(stream: Stream, text: string): void {
    if (stream.res.writableLength > MAX_BUFFERED_BYTES) stream.res.destroy();
    else stream.res.write(text);
  }

  /** The delivery joins the submission's trace as a child of the worker's publish, whichever comes first. */
  private traceAnnounced(index: number, carrier: unknown): void {
    const parsed = traceContextSchema.safeParse(carrier);
    if (!parsed.success) return;
    const clients = this.deliveredUntraced.get(index);
    if (clients === undefined) return remember(this.carriers, index, parsed.data);
    this.deliveredUntraced.delete(index);
    deliverySpan(index, parsed.data, clients);
  }

  private traceDelivered(index: number, clients: number): void {
    const carrier = this.carriers.get(index);
    if (carrier === undefined) return remember(this.deliveredUntraced, index, clients);
    this.carriers.delete(index);
    deliverySpan(index, carrier, clients);
  }

  /** Ends every stream (browsers reconnect to another replica and resume) and stops listening. */
  close(): void {
    this.closed = true;
    clearInterval(this.heartbeat);
    for (const stream of this.streams) {
      if (stream.open) stream.res.end();
      else stream.settle(new HttpError('service_unavailable', 'this instance is shutting down'));
      clearTimeout(stream.lifetime);
    }
    this.streams.clear();
    this.perClient.clear();
    // Not quit(): with Redis away it would wait for a reconnect that may never come.
    this.subscriber.disconnect();
  }
}

/** A Map that forgets its oldest entry once it holds MAX_TRACED. */
function remember<V>(map: Map<number, V>, key: number, value: V): void {
  if (map.size >= MAX_TRACED) map.delete(map.keys().next().value!);
  map.set(key, value);
}

function deliverySpan(index: number, carrier: TraceCarrier, clients: number): void {
  void traced(
    'sse deliver',
    { kind: SpanKind.CONSUMER, parent: carrier, attributes: { 'fibstack.index': index, 'fibstack.sse.clients': clients } },
    () => undefined,
  );
}
