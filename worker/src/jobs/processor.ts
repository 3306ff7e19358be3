import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { jobDataSchema, RESULTS_CHANNEL, TRACE_CONTEXT_KEY } from '@fibstack/contract/jobs';
import { previewOf, type ResultEvent } from '@fibstack/contract/values';
import { publish, type RedisClient } from '@fibstack/service-kit/redis';
import { currentTraceCarrier, SpanKind, traced } from '@fibstack/service-kit/tracing/spans';
import { INLINE_MAX_INDEX, type FibonacciPool } from '../fibonacci/pool.js';
import type { ResultsStore } from './results-store.js';

export interface ProcessorDeps {
  store: ResultsStore;
  pool: FibonacciPool;
  /** A command connection for PUBLISH (a subscriber or blocking connection cannot publish). */
  publisher: RedisClient;
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
    const onThread = index > INLINE_MAX_INDEX;
    const { value, computeMs } = await traced(
      'fibonacci compute',
      { attributes: { 'fibstack.index': index, 'fibstack.compute.on_thread': onThread } },
      () => pool.compute(index),
    );
    // Logged where the work happens, so a computation whose result is then discarded still shows.
    logger.info({ ...about, digits: value.length, computeMs: Math.round(computeMs * 1000) / 1000 }, 'value computed');
    const computedAt = await traced('results insert', { attributes: { 'fibstack.index': index, 'fibstack.digits': value.length } }, () =>
      store.insert(index, value, computeMs),
    );
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
    // The message carries the publish's trace context, so the API's delivery to browsers joins this trace.
    await traced('results publish', { kind: SpanKind.PRODUCER, attributes: { 'messaging.destination.name': RESULTS_CHANNEL } }, () =>
      publish(publisher, RESULTS_CHANNEL, JSON.stringify({ ...event, [TRACE_CONTEXT_KEY]: currentTraceCarrier() })),
    ).catch((error: unknown) => {
      // The value is stored; live viewers miss one event and catch up on their next page load.
      logger.warn({ ...about, err: error }, 'could not announce the result');
    });
    return { index, stored: true, digits: value.length };
  };
}
