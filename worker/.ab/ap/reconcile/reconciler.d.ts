import type { Queue } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import { type JobData } from '@fibstack/contract/jobs';
/**
 * Postgres is the source of truth: every submitted index must end up with a result. The reconciler
 * finds submitted indexes without one and makes sure each has a live job, adding it again when it is
 * missing (a Redis flush, an enqueue that failed while Redis was down) and retrying it when it failed
 * for good. Job ids are deterministic, so re-adding a job that exists changes nothing.
 */
export declare class Reconciler {
    private readonly pool;
    private readonly queue;
    private readonly logger;
    private timer;
    private running;
    constructor(pool: pg.Pool, queue: Queue<JobData>, logger: Logger);
    /** One pass over all unresolved indexes; returns how many jobs it added or retried. */
    reconcile(): Promise<number>;
    private ensureJobs;
    /** Reconciles now and then every `intervalMs`; errors (an outage) are logged and retried next time. */
    start(intervalMs: number): void;
    /** Stops the timer and waits for a pass in progress. */
    stop(): Promise<void>;
}
