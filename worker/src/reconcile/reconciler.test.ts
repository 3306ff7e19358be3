import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { fibonacciJob, JOB_OPTIONS, jobIdFor, QUEUE_NAME } from '@fibstack/contract/jobs';
import { closeTestPool, testPool } from '@fibstack/devstack/test-database';
import { eventually, within } from '@fibstack/devstack/testkit';
import { recordSubmissions, useTestStores } from '../testing/stores.js';
import { Reconciler } from './reconciler.js';

const stores = useTestStores();
let reconciler: Reconciler;

beforeAll(() => {
  reconciler = new Reconciler(stores.pool, stores.queue, pino({ level: 'silent' }));
});

async function submit(...indexes: number[]) {
  for (const index of indexes) await recordSubmissions(stores.pool, [index]);
}

async function flagged(): Promise<number[]> {
  const { rows } = await stores.pool.query<{ index: number }>('SELECT index FROM submitted_indexes WHERE pending ORDER BY index');
  return rows.map((row) => row.index);
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
    await recordSubmissions(stores.pool, [...Array(1_205).keys()]);
    expect(await reconciler.reconcile()).toBe(1_205);
    expect(await stores.queue.getWaitingCount()).toBe(1_205);
  });

  it('clears the flag of an index once its value is stored, and reads only flagged indexes', async () => {
    await submit(70, 71);
    await stores.pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (70, '190392490709135', 15, 1)`);
    expect(await reconciler.reconcile()).toBe(1);
    expect(await flagged()).toEqual([71]);

    // A row not flagged is never read: were it unresolved (it is not, outside this test), no pass would see it.
    await stores.pool.query('UPDATE submitted_indexes SET pending = false WHERE index = 71');
    await stores.redis.flushall();
    expect(await reconciler.reconcile()).toBe(0);
    expect(await stores.queue.getJob(jobIdFor(71))).toBeUndefined();
  });

  it('skips, for the next pass, a flagged row a submission holds locked, instead of waiting for it', async () => {
    await submit(90, 91);
    await stores.pool.query(
      `INSERT INTO results (index, value, digits, compute_ms) SELECT i, '1', 1, 0 FROM unnest('{90,91}'::int[]) AS i`,
    );
    const holder = await stores.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM submitted_indexes WHERE index = 91 FOR UPDATE');
      expect(await within(reconciler.reconcile(), 5_000)).toBe(0);
      expect(await flagged()).toEqual([91]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    await reconciler.reconcile();
    expect(await flagged()).toEqual([]);
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
