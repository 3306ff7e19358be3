import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { JOB_OPTIONS, jobIdFor, type JobData } from '@fibstack/contract/jobs';
import { withDeadline } from '../deadline.js';

/** How long a request waits for Redis before it answers without it. */
const ENQUEUE_TIMEOUT_MS = 1_000;

/**
 * Queues the job for an index. The submission is already committed in Postgres, so a failure here
 * (Redis down or slow) is logged, not raised: the worker's reconciler queues every submission that has
 * no result, and the caller still gets its 202.
 * The deterministic job id makes a repeat of a pending index a no-op in BullMQ.
 */
export async function enqueueFibonacci(queue: Queue<JobData>, data: JobData, logger: Logger): Promise<boolean> {
  const add = queue.add('fibonacci', data, { ...JOB_OPTIONS, jobId: jobIdFor(data.index) });
  try {
    await withDeadline(add, ENQUEUE_TIMEOUT_MS, 'queue add');
    return true;
  } catch (error) {
    // An add still waiting for Redis may yet land (harmless: same job id) or fail later, unobserved.
    add.catch(() => undefined);
    logger.warn({ err: error, index: data.index }, 'could not queue the job now; the reconciler will');
    return false;
  }
}
