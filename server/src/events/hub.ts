import type { Response } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RESULTS_CHANNEL } from '@fibstack/contract/jobs';

/**
 * Relays the worker's result announcements (Redis pub/sub) to every browser connected to
 * `GET /api/events`. One subscriber connection serves all clients of this process.
 */
export class EventsHub {
  private readonly clients = new Set<Response>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    private readonly subscriber: Redis,
    private readonly logger: Logger,
    heartbeatMs: number,
  ) {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === RESULTS_CHANNEL) this.broadcast(`event: result\ndata: ${message}\n\n`);
    });
    // A comment line keeps proxies and load balancers from closing an idle stream.
    this.heartbeat = setInterval(() => this.broadcast(': ping\n\n'), heartbeatMs);
    this.heartbeat.unref();
  }

  /** Subscribes to the results channel; ioredis re-subscribes by itself after a reconnect. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(RESULTS_CHANNEL);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Turns the response into an event stream that lasts until the client goes away. */
  attach(res: Response): void {
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

  private broadcast(frame: string): void {
    for (const client of this.clients) client.write(frame);
  }

  /** Ends every stream (browsers reconnect to another replica) and stops listening. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
    await this.subscriber.quit().catch((error: unknown) => this.logger.debug({ err: error }, 'subscriber quit failed'));
  }
}
