import { UnrecoverableError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { jobDataSchema, RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import { previewOf, type ResultEvent } from '@fibstack/contract/values';
import { INLINE_MAX_INDEX, type FibonacciPool } from '../fibonacci/pool.js';
import type { ResultsStore } from './results-store.js';

export interface ProcessorDeps {
  store: ResultsStore;
  pool: FibonacciPool;
  /** A command connection for PUBLISH (a subscriber or blocking connection cannot publish). */
  publisher: Redis;
  logger: Logger;
}

export type JobOutcome = { index: number; stored: boolean; digits?: number };

/**
 * What the worker does with one job: compute Fibonacci(index) unless it is already stored, store it,
 * and announce it on RESULTS_CHANNEL for the API's live stream. Errors other than bad job data are
 * thrown, so BullMQ retries them with backoff.
 *
 * A small value costs less to compute than a round trip to ask whether it is stored, so only big ones
 * are looked up first; the insert keeps the first value either way.
 */
export function createProcessor({ store, pool, publisher, logger }: ProcessorDeps) {
  return async (job: Job): Promise<JobOutcome> => {
    const parsed = jobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid job data: ${JSON.stringify(job.data).slice(0, 200)}`);
    const { index, requestId } = parsed.data;
    // Every line about this job carries these; passed with each line rather than bound to a child
    // logger, which would cost more than the line itself for a small job.
    const about = { jobId: job.id, index, requestId, attempt: job.attemptsMade + 1 };

    if (index > INLINE_MAX_INDEX && (await store.has(index))) {
      logger.info(about, 'value already stored; nothing to compute');
      return { index, stored: false };
    }
    const { value, computeMs } = await pool.compute(index);
    const computedAt = await store.insert(index, value, computeMs);
    if (!computedAt) {
      logger.info(about, 'value already stored; kept the stored one');
      return { index, stored: false };
    }
    const event: ResultEvent = {
      index,
      digits: value.length,
      computeMs,
      computedAt: computedAt.toISOString(),
      ...previewOf(value),
    };
    await publisher.publish(RESULTS_CHANNEL, JSON.stringify(event)).catch((error: unknown) => {
      // The value is stored; live viewers miss one event and catch up on their next page load.
      logger.warn({ ...about, err: error }, 'could not announce the result');
    });
    logger.info({ ...about, digits: value.length, computeMs: Math.round(computeMs * 1000) / 1000 }, 'value computed');
    return { index, stored: true, digits: value.length };
  };
}
