import { performance } from 'node:perf_hooks';
import type { Job, Queue, Worker } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerQueueJobsGauge } from '@fibstack/service-kit/queue-metrics';
import type { PoolUsage } from '../fibonacci/pool.js';

/**
 * Job sizes as the dashboard shows them. Up to 10,000 a value is computed on the event loop, above on a
 * thread (INLINE_MAX_INDEX), and the cost grows with the index, so durations only compare within a size.
 */
const SIZE_BUCKETS: Array<[maxIndex: number, label: string]> = [
  [1_000, '0-1k'],
  [10_000, '1k-10k'],
  [100_000, '10k-100k'],
  [1_000_000, '100k-1M'],
];

export function sizeBucket(index: unknown): string {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return 'invalid';
  return SIZE_BUCKETS.find(([max]) => index <= max)?.[1] ?? '1M+';
}

/**
 * The worker's Prometheus metrics, served on its health port at /metrics: jobs by outcome, processing
 * time by size, the queue's depth, the compute threads' use, and the reconciler's re-queues.
 * `observe(worker, queue)` once both exist.
 */
export function createWorkerMetrics(pool: { usage(): PoolUsage }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  const jobs = new Counter({
    name: 'fibstack_worker_jobs_total',
    help: 'Jobs this worker finished: completed, failed for good, or failed and retried (attempts left)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['completed', 'failed', 'retried']) jobs.inc({ outcome }, 0);

  const duration = new Histogram({
    name: 'fibstack_worker_job_duration_seconds',
    help: 'Time the processor spent on a job (compute, store, announce), by index size and outcome',
    labelNames: ['size', 'outcome'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  let queue: Queue | undefined;
  registerQueueJobsGauge(registry, () => queue);

  new Gauge({
    name: 'fibstack_worker_compute_threads',
    help: 'Compute threads by state: busy (computing), idle, and computations waiting for a thread',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const { threads, busy, waiting } = pool.usage();
      this.set({ state: 'busy' }, busy);
      this.set({ state: 'idle' }, threads - busy);
      this.set({ state: 'waiting' }, waiting);
    },
  });
  let reportedBusySeconds = 0;
  new Counter({
    name: 'fibstack_worker_compute_busy_seconds_total',
    help: 'Thread time spent computing, summed over threads; rate() / thread count is the utilisation',
    registers: [registry],
    collect() {
      const { busySeconds } = pool.usage();
      this.inc(Math.max(0, busySeconds - reportedBusySeconds));
      reportedBusySeconds = Math.max(busySeconds, reportedBusySeconds);
    },
  });

  const requeued = new Counter({
    name: 'fibstack_worker_reconciler_requeued_total',
    help: 'Submissions without a result that the reconciler queued again (missing or failed jobs)',
    registers: [registry],
  });

  return {
    registry,
    /** Counts the worker's finished jobs and reads the queue's depth at each scrape. */
    observe(worker: Worker, watched: Queue): void {
      queue = watched;
      worker.on('completed', () => jobs.inc({ outcome: 'completed' }));
      // BullMQ has already recorded the attempt: a job with attempts left goes back to the queue (delayed).
      worker.on('failed', (job: Job | undefined, error: Error) => {
        const unrecoverable = error?.name === 'UnrecoverableError';
        const retried = job !== undefined && !unrecoverable && job.attemptsMade < (job.opts.attempts ?? 1);
        jobs.inc({ outcome: retried ? 'retried' : 'failed' });
      });
    },
    /** Wraps the job processor to time each job. */
    timed<T>(processor: (job: Job) => Promise<T>): (job: Job) => Promise<T> {
      return async (job) => {
        const started = performance.now();
        let outcome = 'failed';
        try {
          const result = await processor(job);
          outcome = 'completed';
          return result;
        } finally {
          duration.observe({ size: sizeBucket((job.data as { index?: unknown }).index), outcome }, (performance.now() - started) / 1000);
        }
      };
    },
    /** Counts the reconciler's re-queues. */
    requeued: (count: number) => requeued.inc(count),
  };
}
