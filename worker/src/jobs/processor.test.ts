import { Queue, UnrecoverableError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { JOB_OPTIONS, jobIdFor, QUEUE_NAME, RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import { resultEventSchema } from '@fibstack/contract/values';
import type { NativeRedis } from '@fibstack/devstack/redis';
import { closeTestPool, createTestDatabase, startTestRedis, testPool } from '@fibstack/devstack/test-database';
import { eventually } from '@fibstack/devstack/testkit';
import { fibonacci } from '../fibonacci/fibonacci.js';
import { FibonacciPool, INLINE_MAX_INDEX } from '../fibonacci/pool.js';
import { createProcessor } from './processor.js';
import { ResultsStore } from './results-store.js';

/**
 * The job processor in this process, with its real dependencies (Postgres, Redis, the thread pool), on
 * real BullMQ jobs. (worker.test.ts runs the built worker as a process; this file reaches each branch.)
 */
let redisServer: NativeRedis;
let pool: pg.Pool;
let redis: Redis;
let publisher: Redis;
let subscriber: Redis;
let queue: Queue;
let threads: FibonacciPool;
const announced: string[] = [];
const logged: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line)) });

beforeAll(async () => {
  pool = testPool({ connectionString: await createTestDatabase(inject('postgresAdminUrl')) });
  redisServer = await startTestRedis();
  redis = new Redis(redisServer.url);
  publisher = new Redis(redisServer.url);
  subscriber = new Redis(redisServer.url);
  await subscriber.subscribe(RESULTS_CHANNEL);
  subscriber.on('message', (_channel, message: string) => announced.push(message));
  queue = new Queue(QUEUE_NAME, { connection: redis });
  threads = new FibonacciPool(1, 10_000);
});

afterEach(async () => {
  await pool.query('TRUNCATE results');
  await redis.flushdb();
  announced.length = 0;
  logged.length = 0;
});

afterAll(async () => {
  await threads.close();
  await queue.close();
  for (const connection of [redis, publisher, subscriber]) connection.disconnect();
  await closeTestPool(pool);
  await redisServer.stop();
});

const processor = () => createProcessor({ store: new ResultsStore(pool), pool: threads, publisher, logger });

async function jobFor(data: unknown, id = 'fib-test'): Promise<Job> {
  return queue.add('fibonacci', data, { ...JOB_OPTIONS, jobId: id });
}

async function stored(index: number): Promise<{ value: string; compute_ms: number } | undefined> {
  const { rows } = await pool.query<{ value: string; compute_ms: number }>('SELECT value, compute_ms FROM results WHERE index = $1', [
    index,
  ]);
  return rows[0];
}

/** Publishes reach a subscriber in order: once this marker has arrived, every earlier announcement has. */
async function announcements(): Promise<string[]> {
  await redis.publish(RESULTS_CHANNEL, 'marker');
  await eventually(() => announced.includes('marker'), 5_000, 'the marker');
  return announced.filter((message) => message !== 'marker');
}

const messages = () => logged.map((entry) => entry.msg);

describe('the job processor', () => {
  it('computes a value, stores it, announces it and logs it with the job and request ids', async () => {
    const index = INLINE_MAX_INDEX + 1;
    const job = await jobFor({ index, requestId: 'req-7' }, jobIdFor(index));
    const outcome = await processor()(job);

    const value = fibonacci(index).toString();
    expect(outcome).toEqual({ index, stored: true, digits: value.length });
    expect((await stored(index))?.value).toBe(value);
    const [event, ...more] = await announcements();
    expect(more).toEqual([]);
    const parsed = resultEventSchema.parse(JSON.parse(event!));
    expect(parsed).toMatchObject({ index, digits: value.length, truncated: true, value: `${value.slice(0, 60)}…` });
    expect(parsed.computedAt).toBe(new Date(parsed.computedAt).toISOString());
    expect(parsed.computeMs).toBe((await stored(index))!.compute_ms);
    const line = logged.find((entry) => entry.msg === 'value computed');
    expect(line).toMatchObject({ jobId: jobIdFor(index), index, requestId: 'req-7', attempt: 1, digits: value.length });
    expect(line!.computeMs).toEqual(expect.any(Number));
  });

  it('announces a short value whole', async () => {
    await processor()(await jobFor({ index: 10, requestId: 'r' }));
    const [event] = await announcements();
    expect(JSON.parse(event!)).toMatchObject({ index: 10, value: '55', digits: 2, truncated: false });
  });

  it('computes nothing for a big index already stored, and announces nothing', async () => {
    const index = INLINE_MAX_INDEX + 2;
    await pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES ($1, '7', 1, 0.5)`, [index]);
    const outcome = await processor()(await jobFor({ index, requestId: 'r' }));
    expect(outcome).toEqual({ index, stored: false });
    expect(messages()).toEqual(['value already stored; nothing to compute']);
    expect(await stored(index)).toEqual({ value: '7', compute_ms: 0.5 });
    expect(await announcements()).toEqual([]);
  });

  it('keeps the stored value of a small index it computed again, and announces nothing', async () => {
    await pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES ($1, '144', 3, 0.5)`, [INLINE_MAX_INDEX]);
    const outcome = await processor()(await jobFor({ index: INLINE_MAX_INDEX, requestId: 'r' }));
    expect(outcome).toEqual({ index: INLINE_MAX_INDEX, stored: false });
    expect(messages()).toEqual(['value computed', 'value already stored; kept the stored one']);
    expect(await stored(INLINE_MAX_INDEX)).toEqual({ value: '144', compute_ms: 0.5 });
    expect(await announcements()).toEqual([]);
  });

  it.each([
    ['a negative index', { index: -5, requestId: 'r' }],
    ['a fractional index', { index: 1.5, requestId: 'r' }],
    ['no request id', { index: 5 }],
    ['no data', {}],
  ])('fails a job with %s for good, storing nothing', async (_what, data) => {
    const attempt = processor()(await jobFor(data));
    await expect(attempt).rejects.toThrow(UnrecoverableError);
    await expect(attempt).rejects.toThrow(/^invalid job data: /);
    expect((await pool.query('SELECT 1 FROM results')).rowCount).toBe(0);
    expect(await announcements()).toEqual([]);
  });

  it('still stores the value when it cannot announce it, and says so', async () => {
    const offline = new Redis(redisServer.url, { lazyConnect: true, enableOfflineQueue: false });
    try {
      const outcome = await createProcessor({ store: new ResultsStore(pool), pool: threads, publisher: offline, logger })(
        await jobFor({ index: 20, requestId: 'r' }),
      );
      expect(outcome).toEqual({ index: 20, stored: true, digits: 4 });
      expect((await stored(20))?.value).toBe('6765');
      expect(messages()).toContain('could not announce the result');
      expect(await announcements()).toEqual([]);
    } finally {
      offline.disconnect();
    }
  });

  it('fails the job (for BullMQ to retry) when the value cannot be stored', async () => {
    const closed = testPool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 500 });
    try {
      const attempt = createProcessor({ store: new ResultsStore(closed), pool: threads, publisher, logger })(
        await jobFor({ index: 30, requestId: 'r' }),
      );
      await expect(attempt).rejects.toThrow();
      await expect(attempt).rejects.not.toThrow(UnrecoverableError);
      expect(await announcements()).toEqual([]);
    } finally {
      await closeTestPool(closed);
    }
  });
});
