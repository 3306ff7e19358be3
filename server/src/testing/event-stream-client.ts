import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import { previewOf, type ResultEvent } from '@fibstack/contract/values';

/** One SSE frame: its fields, or a comment (`: ping`). */
export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface StreamUnderTest {
  status: number;
  headers: IncomingHttpHeaders;
  /** Everything received so far, as text. */
  text(): string;
  /** The complete frames received so far. */
  frames(): SseFrame[];
  /** The `result` events so far: id and data. */
  results(): Array<{ id: number; event: ResultEvent }>;
  /** Resolves once the frames satisfy `check`; rejects naming `what` after `timeoutMs`, or when the stream ends first. */
  until(check: (frames: SseFrame[]) => boolean, what: string, timeoutMs?: number): Promise<SseFrame[]>;
  /** Resolves when the server ends the response (also for a refused request, once its body is in). */
  ended: Promise<void>;
  close(): void;
}

function parseFrames(text: string): SseFrame[] {
  return text
    .split('\n\n')
    .slice(0, -1)
    .map((block) => {
      const frame: SseFrame = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        const match = /^(id|event|data): ?(.*)$/.exec(line);
        if (match) frame[match[1] as 'id' | 'event' | 'data'] = match[2];
      }
      return frame;
    });
}

/** Opens `GET path` with a raw HTTP request, as a browser's EventSource would, and reads it in the background. */
export function openStream(baseUrl: string, { path = '/api/events', headers = {} } = {}): Promise<StreamUnderTest> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { headers: { Accept: 'text/event-stream', ...headers } }, (response) => {
      let text = '';
      let over = false;
      const waiters = new Set<() => void>();
      const wake = () => waiters.forEach((waiter) => waiter());
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        wake();
      });
      const ended = new Promise<void>((done) =>
        response.once('close', () => {
          over = true;
          wake();
          done();
        }),
      );
      const frames = () => parseFrames(text);
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        text: () => text,
        frames,
        results: () =>
          frames()
            .filter((frame) => frame.event === 'result')
            .map((frame) => ({ id: Number(frame.id), event: JSON.parse(frame.data!) as ResultEvent })),
        until: (check, what, timeoutMs = 5_000) =>
          new Promise((done, fail) => {
            const timer = setTimeout(
              () => settle(() => fail(new Error(`no ${what} within ${timeoutMs} ms; received: ${text}`))),
              timeoutMs,
            );
            const settle = (how: () => void) => {
              clearTimeout(timer);
              waiters.delete(attempt);
              how();
            };
            const attempt = () => {
              if (check(frames())) settle(() => done(frames()));
              else if (over) settle(() => fail(new Error(`the stream ended before ${what}; received: ${text}`)));
            };
            waiters.add(attempt);
            attempt();
          }),
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Stores a result as the worker does: INSERT (committed), then the announcement on RESULTS_CHANNEL
 * (`announce: false` leaves it out, as a publish that failed would). Returns its id and its event.
 */
export async function storeResult(
  pool: pg.Pool,
  redis: Redis,
  index: number,
  { value = String(index), announce = true }: { value?: string; announce?: boolean } = {},
): Promise<{ id: number; event: ResultEvent }> {
  const { rows } = await pool.query<{ id: string; computed_at: Date }>(
    'INSERT INTO results (index, value, digits, compute_ms) VALUES ($1, $2, $3, 0.5) RETURNING id, computed_at',
    [index, value, value.length],
  );
  const event: ResultEvent = {
    index,
    ...previewOf(value),
    digits: value.length,
    computeMs: 0.5,
    computedAt: rows[0]!.computed_at.toISOString(),
  };
  if (announce) await redis.publish(RESULTS_CHANNEL, JSON.stringify(event));
  return { id: Number(rows[0]!.id), event };
}

/** The `ready` frame that starts a stream: the id it starts after, and whether it resumed. */
export function readyOf(frames: SseFrame[]): { id: number; resumed: boolean } | undefined {
  const ready = frames.find((frame) => frame.event === 'ready');
  return ready && { id: Number(ready.id), resumed: (JSON.parse(ready.data!) as { resumed: boolean }).resumed };
}
