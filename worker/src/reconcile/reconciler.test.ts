import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { fibonacciJob, JOB_OPTIONS, jobIdFor, QUEUE_NAME } from '@fibstack/contract/jobs';
import { closeTestPool, testPool } from '@fibstack/devstack/test-database';
import { eventually } from '@fibstack/devstack/testkit';
import { useTestStores } from '../testing/stores.js';
import { Reconciler } from './reconciler.js';

const stores = useTestStores();
let reconciler: Reconciler;

beforeAll(() => {
  reconciler = new Reconciler(stores.pool, stores.queue, pino({ level: 'silent' }));
});

async function submit(...indexes: number[]) {
  for (const index of indexes) await stores.pool.query('INSERT INTO submissions (index) VALUES ($1)', [index]);
}

describe('reconciler', () => {
  it('re-adds a job for every submitted index without a result after Redis lost them all', async () => {
    await submit(30, 31, 31, 32, 33, 34);
    await stores.pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (34, '5702887', 7, 1)`);
    for (const index of [30, 31, 32, 33]) {
      const job = fibonacciJob({ index, requestId: 'api' });
      await stores.queue.add(job.name, job.data, job.opts);
    }
    await stores.redis.flushall();

    expect(await reconciler.reconcile()).toBe(4);
    const waiting = await stores.queue.getWaiting();
    expect(waiting.map((job) => job.id).sort()).toEqual(['fib-30', 'fib-31', 'fib-32', 'fib-33']);
    expect(waiting.every((job) => job.opts.attempts === JOB_OPTIONS.attempts)).toBe(true);

    // Jobs that exist are left alone: a second pass adds nothing.
    expect(await reconciler.reconcile()).toBe(0);
    expect(await stores.queue.getWaitingCount()).toBe(4);
  });

  it('queues "fibonacci" jobs marked as the reconciler\'s, and says how many it repaired (and nothing when none)', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const logging = new Reconciler(stores.pool, stores.queue, logger);
    await submit(50, 51);
    expect(await logging.reconcile()).toBe(2);
    const [job] = await stores.queue.getWaiting();
    expect(job).toMatchObject({ name: 'fibonacci', data: { index: expect.any(Number), requestId: 'reconciler' } });
    expect(lines).toEqual([expect.objectContaining({ repaired: 2, msg: 'reconciler re-queued unresolved submissions' })]);
    expect(await logging.reconcile()).toBe(0);
    expect(lines).toHaveLength(1);
  });

  it('passes again every interval until stopped, and survives a failing pass', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    // A second stores.pool whose database is unreachable: every pass of this reconciler fails.
    const unreachable = testPool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 200 });
    const failing = new Reconciler(unreachable, stores.queue, logger);
    failing.start(100);
    await eventually(
      () => lines.filter((line) => line.msg === 'reconcile pass failed; will retry').length >= 2,
      10_000,
      'two failed passes',
    );
    await failing.stop();
    await closeTestPool(unreachable);

    await submit(59);
    const periodic = new Reconciler(stores.pool, stores.queue, pino({ level: 'silent' }));
    periodic.start(100);
    try {
      // The first pass has queued what was unresolved when it read the submissions; one submitted after
      // that is queued only by a later pass.
      await eventually(async () => (await stores.queue.getJob(jobIdFor(59))) !== undefined, 5_000, 'the first pass');
      await submit(60);
      await eventually(async () => (await stores.queue.getJob(jobIdFor(60))) !== undefined, 10_000, 'a later pass');
    } finally {
      await periodic.stop();
    }
  });

  it('walks past one batch of a thousand', async () => {
    await stores.pool.query('INSERT INTO submissions (index) SELECT generate_series(0, 1_204)');
    expect(await reconciler.reconcile()).toBe(1_205);
    expect(await stores.queue.getWaitingCount()).toBe(1_205);
  });

  it('retries a job whose attempts are exhausted, with a fresh set of attempts', async () => {
    await submit(40);
    const opts = { ...JOB_OPTIONS, attempts: 1, jobId: jobIdFor(40) };
    const job = await stores.queue.add('fibonacci', { index: 40, requestId: 'api' }, opts);
    const connection = new Redis(stores.redisUrl, { maxRetriesPerRequest: null });
    const failing = new Worker(QUEUE_NAME, () => Promise.reject(new Error('Postgres is down')), { connection });
    try {
      await eventually(async () => (await stores.queue.getJobState(job.id!)) === 'failed', 10_000, 'the job to fail');
    } finally {
      await failing.close();
      connection.disconnect();
    }

    expect(await reconciler.reconcile()).toBe(1);
    expect(await stores.queue.getJobState(job.id!)).toBe('waiting');
    expect((await stores.queue.getJob(job.id!))?.attemptsMade).toBe(0);
  });
});
