import { JOB_OPTIONS, jobIdFor } from '@fibstack/contract/jobs';
const BATCH = 1_000;
/**
 * Postgres is the source of truth: every submitted index must end up with a result. The reconciler
 * finds submitted indexes without one and makes sure each has a live job, adding it again when it is
 * missing (a Redis flush, an enqueue that failed while Redis was down) and retrying it when it failed
 * for good. Job ids are deterministic, so re-adding a job that exists changes nothing.
 */
export class Reconciler {
    pool;
    queue;
    logger;
    timer;
    running;
    constructor(pool, queue, logger) {
        this.pool = pool;
        this.queue = queue;
        this.logger = logger;
    }
    /** One pass over all unresolved indexes; returns how many jobs it added or retried. */
    async reconcile() {
        // Keyset over distinct submitted indexes (served by submissions_index_idx), one bounded batch at a time.
        let repaired = 0;
        let after = -1;
        for (;;) {
            const { rows } = await this.pool.query({
                name: 'unresolved-indexes',
                text: `SELECT DISTINCT s.index FROM submissions s
               WHERE s.index > $1 AND NOT EXISTS (SELECT 1 FROM results r WHERE r.index = s.index)
               ORDER BY s.index LIMIT $2`,
                values: [after, BATCH],
            });
            repaired += await this.ensureJobs(rows.map((row) => row.index));
            if (rows.length < BATCH)
                break;
            after = rows[rows.length - 1].index;
        }
        if (repaired > 0)
            this.logger.info({ repaired }, 'reconciler re-queued unresolved submissions');
        return repaired;
    }
    async ensureJobs(indexes) {
        const jobs = await Promise.all(indexes.map((index) => this.queue.getJob(jobIdFor(index))));
        const missing = [];
        let retried = 0;
        await Promise.all(jobs.map(async (job, i) => {
            if (!job)
                return void missing.push(indexes[i]);
            if (await job.isFailed()) {
                // Its attempts are spent; a fresh set lets the usual backoff apply again.
                await job.retry('failed', { resetAttemptsMade: true });
                retried++;
            }
        }));
        await this.queue.addBulk(missing.map((index) => ({
            name: 'fibonacci',
            data: { index, requestId: 'reconciler' },
            opts: { ...JOB_OPTIONS, jobId: jobIdFor(index) },
        })));
        return missing.length + retried;
    }
    /** Reconciles now and then every `intervalMs`; errors (an outage) are logged and retried next time. */
    start(intervalMs) {
        const tick = () => {
            this.running ??= this.reconcile()
                .catch((error) => {
                this.logger.warn({ err: error }, 'reconcile pass failed; will retry');
                return 0;
            })
                .finally(() => (this.running = undefined));
        };
        tick();
        this.timer = setInterval(tick, intervalMs);
    }
    /** Stops the timer and waits for a pass in progress. */
    async stop() {
        clearInterval(this.timer);
        await this.running;
    }
}
//# sourceMappingURL=reconciler.js.map