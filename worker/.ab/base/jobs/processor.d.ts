import { type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type FibonacciPool } from '../fibonacci/pool.js';
import type { ResultsStore } from './results-store.js';
export interface ProcessorDeps {
    store: ResultsStore;
    pool: FibonacciPool;
    /** A command connection for PUBLISH (a subscriber or blocking connection cannot publish). */
    publisher: Redis;
    logger: Logger;
}
export type JobOutcome = {
    index: number;
    stored: boolean;
    digits?: number;
};
/**
 * What the worker does with one job: compute Fibonacci(index) unless it is already stored, store it,
 * and announce it on RESULTS_CHANNEL for the API's live stream. Errors other than bad job data are
 * thrown, so BullMQ retries them with backoff.
 *
 * A small value costs less to compute than a round trip to ask whether it is stored, so only big ones
 * are looked up first; the insert keeps the first value either way.
 */
export declare function createProcessor({ store, pool, publisher, logger }: ProcessorDeps): (job: Job) => Promise<JobOutcome>;
