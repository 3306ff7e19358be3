import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { fibonacciJob, JOB_OPTIONS, jobIdFor, QUEUE_NAME, RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import { resultEventSchema } from '@fibstack/contract/values';
import { createTestDatabase, startTestRedis } from '@fibstack/devstack/test-database';
import { eventually } from '@fibstack/devstack/testkit';
import { fibonacci } from '../fibonacci/fibonacci.js';
import { recordSubmissions, useTestStores } from '../testing/stores.js';
import { startWorkerProcess, type WorkerProcess } from '../testing/worker-process.js';

const stores = useTestStores();
const running: WorkerProcess[] = [];

function startWorker(extra: Record<string, string> = {}) {
  const worker = startWorkerProcess({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, ...extra });
  running.push(worker);
  return worker;
}

async function submit(index: number, requestId = `test-${index}`) {
  await recordSubmissions(stores.pool, [index]);
  const job = fibonacciJob({ index, requestId });
  return stores.queue.add(job.name, job.data, job.opts);
}

async function storedValue(index: number): Promise<string | undefined> {
  const { rows } = await stores.pool.query<{ value: string }>('SELECT value FROM results WHERE index = $1', [index]);
  return rows[0]?.value;
}

async function resultCount(): Promise<number> {
  return (await stores.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM results')).rows[0]!.n;
}

/** The index of every computation a worker logged ("value computed", written right after computing), in order. */
function computedIndexes(worker: WorkerProcess): number[] {
  return worker
    .output()
    .split('\n')
    .filter((line) => line.includes('"msg":"value computed"'))
    .map((line) => (JSON.parse(line) as { index: number }).index);
}

async function jobState(job: Job): Promise<string> {
  return await stores.queue.getJobState(job.id!);
}

/** Completed jobs are removed, so "finished" is any state but waiting or in progress. */
async function jobFinished(job: Job): Promise<boolean> {
  return !['waiting', 'active'].includes(await jobState(job));
}

afterEach(async () => {
  for (const worker of running.splice(0)) {
    if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await worker.exited;
  }
});

describe('the worker process', () => {
  it('computes a job, stores the exact value, announces it and logs the request id', async () => {
    const subscriber = new Redis(stores.redisUrl);
    const announced: string[] = [];
    await subscriber.subscribe(RESULTS_CHANNEL);
    subscriber.on('message', (_channel, message: string) => announced.push(message));
    try {
      const worker = startWorker();
      await submit(1000, 'req-1000');
      await submit(90);
      await eventually(async () => (await resultCount()) === 2, 15_000, 'two results');
      expect(await storedValue(90)).toBe('2880067194370816120');
      expect(await storedValue(1000)).toBe(fibonacci(1000).toString());
      await eventually(() => announced.length === 2, 5_000, 'two announcements');
      const event = announced.map((message) => JSON.parse(message)).find((parsed) => parsed.index === 1000);
      expect(resultEventSchema.parse(event)).toMatchObject({ index: 1000, digits: 209, truncated: true });
      expect(event.value).toMatch(/^43466557686937456435\d{40}…$/);
      expect(new Date(event.computedAt).toISOString()).toBe(event.computedAt);
      expect(event.computeMs).toBeGreaterThanOrEqual(0);
      await eventually(() => worker.output().includes('"requestId":"req-1000"'), 5_000, 'the job log line');
      const line = worker
        .output()
        .split('\n')
        .filter((text) => text.includes('"requestId":"req-1000"'))
        .map((text) => JSON.parse(text))
        .find((entry) => entry.msg === 'value computed');
      expect(line).toMatchObject({ jobId: 'fib-1000', index: 1000, requestId: 'req-1000', digits: 209 });
      expect(typeof line.computeMs).toBe('number');
    } finally {
      subscriber.disconnect();
    }
  });

  it('computes nothing for a big index whose value is already stored', async () => {
    await stores.pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (20000, '144', 3, 0.5)`);
    const job = await submit(20_000);
    const worker = startWorker();
    await eventually(() => worker.output().includes('value already stored; nothing to compute'), 15_000, 'the worker to skip it');
    await eventually(() => jobFinished(job), 15_000, 'job done');
    expect(worker.output()).not.toContain('value computed');
    const { rows } = await stores.pool.query('SELECT value, compute_ms FROM results WHERE index = 20000');
    expect(rows).toEqual([{ value: '144', compute_ms: 0.5 }]);
  });

  it('keeps the stored value of a small index and announces nothing', async () => {
    await stores.pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (12, '144', 3, 0.5)`);
    const subscriber = new Redis(stores.redisUrl);
    const announced: string[] = [];
    await subscriber.subscribe(RESULTS_CHANNEL);
    subscriber.on('message', (_channel, message: string) => announced.push(message));
    try {
      const job = await submit(12);
      const worker = startWorker();
      // The log arrives through a pipe and the job state through Redis: wait for each, not one for the other.
      await eventually(() => worker.output().includes('value already stored; kept the stored one'), 15_000, 'the log line');
      await eventually(() => jobFinished(job), 15_000, 'job done');
      const { rows } = await stores.pool.query('SELECT compute_ms FROM results WHERE index = 12');
      expect(rows).toEqual([{ compute_ms: 0.5 }]);
      // A subscriber gets a channel's messages in publish order, and the worker publishes before its job
      // completes: once a marker published now has arrived, anything the worker announced has too.
      await stores.redis.publish(RESULTS_CHANNEL, 'marker');
      await eventually(() => announced.includes('marker'), 5_000, 'the marker');
      expect(announced).toEqual(['marker']);
    } finally {
      subscriber.disconnect();
    }
  });

  it('fails a job with invalid data for good, storing nothing', async () => {
    const job = await stores.queue.add('fibonacci', { index: -5, requestId: 'bad' }, { ...JOB_OPTIONS, jobId: 'fib-bad' });
    startWorker();
    await eventually(async () => (await jobState(job)) === 'failed', 15_000, 'the job to fail');
    const failed = await stores.queue.getJob(job.id!);
    expect(failed?.failedReason).toMatch(/invalid job data/);
    expect(failed?.attemptsMade).toBe(1);
    expect(await resultCount()).toBe(0);
  });

  it('computes every submission whose job Redis lost (FLUSHALL), via the reconciler', async () => {
    for (const index of [30, 31, 32, 33]) await submit(index);
    await stores.redis.flushall();
    startWorker({ RECONCILE_INTERVAL_MS: '200' });
    await eventually(async () => (await resultCount()) === 4, 15_000, 'every lost submission computed');
    expect(await storedValue(33)).toBe(fibonacci(33).toString());
  });

  it('on SIGTERM finishes the job in hand, exits 0 and leaves the rest queued for the next worker', async () => {
    const big = 6_000_000;
    const job = await submit(big);
    const queued = await submit(4_000);
    const worker = startWorker({ WORKER_CONCURRENCY: '1' });
    await eventually(async () => (await jobState(job)) === 'active', 15_000, 'the job to start');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect((await storedValue(big))?.length).toBe(fibonacci(big).toString().length);
    expect(await jobState(job)).not.toBe('active');
    expect(await jobState(queued)).toBe('waiting');
    expect(await storedValue(4_000)).toBeUndefined();

    startWorker();
    await eventually(async () => (await storedValue(4_000)) !== undefined, 15_000, 'the restarted worker to finish');
    expect(await storedValue(4_000)).toBe(fibonacci(4_000).toString());
    expect(await resultCount()).toBe(2);
  });

  it('exits 1 at SHUTDOWN_TIMEOUT_MS after SIGTERM when Postgres and Redis died under its job', async () => {
    // Stores of this test's own, so they can be taken away.
    const ownRedis = await startTestRedis();
    const ownDatabaseUrl = await createTestDatabase(inject('postgresAdminUrl'));
    const connection = new Redis(ownRedis.url, { maxRetriesPerRequest: 1 });
    connection.on('error', () => undefined);
    const ownQueue = new Queue(QUEUE_NAME, { connection });
    ownQueue.on('error', () => undefined);
    const admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
    admin.on('error', () => undefined);
    try {
      const job = await ownQueue.add(
        'fibonacci',
        { index: 8_000_000, requestId: 'doomed' },
        { ...JOB_OPTIONS, jobId: jobIdFor(8_000_000) },
      );
      const worker = startWorkerProcess({
        DATABASE_URL: ownDatabaseUrl,
        REDIS_URL: ownRedis.url,
        WORKER_CONCURRENCY: '1',
        SHUTDOWN_TIMEOUT_MS: '2000',
      });
      running.push(worker);
      await eventually(async () => (await ownQueue.getJobState(job.id!)) === 'active', 15_000, 'the job to start');
      await ownQueue.close();
      connection.disconnect();
      await ownRedis.stop();
      await admin.connect();
      await admin.query(`DROP DATABASE ${pg.escapeIdentifier(new URL(ownDatabaseUrl).pathname.slice(1))} WITH (FORCE)`);

      worker.child.kill('SIGTERM');
      // Without the bound the worker waits for Redis to come back, and this test times out.
      expect(await worker.exited).toBe(1);
      expect(worker.output()).toContain('shutdown did not finish in time; exiting now');
      expect(worker.output()).not.toContain('stopped cleanly');
    } finally {
      connection.disconnect();
      await ownRedis.stop();
      await admin.end();
    }
  });

  it('loses nothing when killed with SIGKILL mid-job: every job completes after a restart, once', async () => {
    const big = 8_000_000;
    const job = await submit(big);
    const small = [100, 101, 102];
    for (const index of small) await submit(index);
    const fast = { WORKER_LOCK_DURATION_MS: '1000', WORKER_STALLED_INTERVAL_MS: '1000' };
    const first = startWorker({ ...fast, WORKER_CONCURRENCY: '1' });
    await eventually(async () => (await jobState(job)) === 'active', 15_000, 'the job to start');
    first.child.kill('SIGKILL');
    await first.exited;
    expect(await storedValue(big)).toBeUndefined();

    const second = startWorker(fast);
    await eventually(async () => (await storedValue(big)) !== undefined, 45_000, 'the stalled job to be retried');
    await eventually(async () => (await resultCount()) === 4, 10_000, 'every job to complete');
    await eventually(
      async () => (await Promise.all([big, ...small].map((index) => stores.queue.getJob(jobIdFor(index))))).every((job) => !job),
      10_000,
      'every job to be done (and removed)',
    );
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // Counted where the work happens: the worker logs each computation right after it, before storing the
    // value (the results table cannot tell: its primary key keeps one row however often a value is computed).
    expect(computedIndexes(first)).toEqual([]);
    expect(computedIndexes(second).sort((a, b) => a - b)).toEqual([...small, big]);
    expect(await storedValue(101)).toBe(fibonacci(101).toString());
  });
});
