import { afterEach, describe, expect, it } from 'vitest';
import { fibonacciJob, JOB_OPTIONS } from '@fibstack/contract/jobs';
import { freePort } from '@fibstack/devstack/ports';
import { eventually } from '@fibstack/devstack/testkit';
import { sample } from '../testing/prometheus-text.js';
import { recordSubmissions, useTestStores } from '../testing/stores.js';
import { startWorkerProcess, type WorkerProcess } from '../testing/worker-process.js';
import { sizeBucket } from './worker-metrics.js';

const stores = useTestStores();
let worker: WorkerProcess | undefined;

// Runs before useTestStores empties the stores (after-hooks run in reverse order): no worker writes meanwhile.
afterEach(async () => {
  if (worker && worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await worker?.exited;
});

async function startWorker(env: Record<string, string> = {}) {
  const port = await freePort();
  worker = startWorkerProcess({ DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, HEALTH_PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}/metrics`;
  await eventually(async () => (await fetch(url).catch(() => undefined))?.ok === true, 15_000, 'the worker /metrics');
  return async () => (await fetch(url)).text();
}

describe('sizeBucket', () => {
  it('groups indexes by the order of magnitude that decides their cost', () => {
    expect([0, 1_000, 1_001, 10_000, 10_001, 100_000, 1_000_000, 1_000_001, -1, 2.5, '7'].map(sizeBucket)).toEqual([
      '0-1k',
      '0-1k',
      '1k-10k',
      '1k-10k',
      '10k-100k',
      '10k-100k',
      '100k-1M',
      '1M+',
      'invalid',
      'invalid',
      'invalid',
    ]);
  });
});

describe('the worker /metrics', () => {
  it('counts completed, retried and failed jobs, times them by size, and shows the threads at work', async () => {
    const scrape = await startWorker({ JOB_TIMEOUT_MS: '200', COMPUTE_THREADS: '1', RECONCILE_INTERVAL_MS: '3600000' });
    const small = [5, 50, 500];
    const large = [20_000, 30_000];
    await stores.queue.addBulk([...small, ...large].map((index) => fibonacciJob({ index, requestId: 'metrics' })));
    // Invalid data fails for good at once; an index too big for JOB_TIMEOUT_MS times out twice (2 attempts).
    await stores.queue.add('fibonacci', { index: -1, requestId: 'bad' }, { ...JOB_OPTIONS, jobId: 'fib-bad' });
    await stores.queue.add(
      'fibonacci',
      { index: 8_000_000, requestId: 'slow' },
      { attempts: 2, backoff: { type: 'fixed', delay: 10 }, jobId: 'fib-slow' },
    );

    await eventually(
      async () => sample(await scrape(), 'fibstack_worker_jobs_total', { outcome: 'failed' }) === 2,
      30_000,
      'two jobs failed for good',
    );
    const text = await scrape();
    expect(sample(text, 'fibstack_worker_jobs_total', { outcome: 'completed' })).toBe(5);
    expect(sample(text, 'fibstack_worker_jobs_total', { outcome: 'retried' })).toBe(1);
    expect(sample(text, 'fibstack_worker_job_duration_seconds_count', { size: '0-1k', outcome: 'completed' })).toBe(3);
    expect(sample(text, 'fibstack_worker_job_duration_seconds_count', { size: '10k-100k', outcome: 'completed' })).toBe(2);
    expect(sample(text, 'fibstack_worker_job_duration_seconds_count', { size: '1M+', outcome: 'failed' })).toBe(2);
    expect(sample(text, 'fibstack_worker_job_duration_seconds_count', { size: 'invalid', outcome: 'failed' })).toBe(1);
    // The large values and the two timed-out attempts (200 ms each) ran on the pool's one thread.
    expect(sample(text, 'fibstack_worker_compute_busy_seconds_total')).toBeGreaterThanOrEqual(0.4);
    expect(
      sample(text, 'fibstack_worker_compute_threads', { state: 'busy' }) +
        sample(text, 'fibstack_worker_compute_threads', { state: 'idle' }),
    ).toBe(1);
    expect(sample(text, 'fibstack_queue_jobs', { state: 'failed' })).toBe(2);
    expect(sample(text, 'fibstack_queue_jobs', { state: 'waiting' })).toBe(0);
    expect(sample(text, 'fibstack_worker_reconciler_requeued_total')).toBe(0);
  });

  it('counts the submissions the reconciler queues again', async () => {
    // Submitted while Redis lost its jobs: rows in Postgres, no job anywhere.
    await recordSubmissions(stores.pool, [7, 8, 9]);
    const scrape = await startWorker();
    await eventually(
      async () => sample(await scrape(), 'fibstack_worker_jobs_total', { outcome: 'completed' }) === 3,
      15_000,
      'the re-queued jobs done',
    );
    expect(sample(await scrape(), 'fibstack_worker_reconciler_requeued_total')).toBe(3);
  });
});
