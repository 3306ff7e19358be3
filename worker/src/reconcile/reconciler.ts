import type { Queue } from 'bullmq';
import type pg from 'pg';
import type { Logger } from 'pino';
import { fibonacciJob, jobIdFor, type JobData } from '@fibstack/contract/jobs';
import { PeriodicTask } from '@fibstack/service-kit/periodic-task';

const BATCH = 1_000;

/**
 * Postgres is the source of truth: every submitted index must end up with a result. The reconciler
 * finds submitted indexes without one and makes sure each has a live job, adding it again when it is
 * missing (a Redis flush, an enqueue that failed while Redis was down) and retrying it when it failed
 * for good. Job ids are deterministic, so re-adding a job that exists changes nothing.
 *
 * It reads only the indexes flagged `pending` (a partial index holds just those, migration 003): one is
 * flagged when first submitted, or submitted again while its value is missing, and the reconciler clears
 * the flag once it finds the value stored. So a pass costs what was submitted since the last one plus
 * what is still unresolved, however many submissions and values the database holds.
 */
export class Reconciler {
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly pool: pg.Pool,
    private readonly queue: Queue<JobData>,
    private readonly logger: Logger,
    /** Told how many jobs each pass added or retried (the re-queue metric). */
    private readonly onRequeued: (count: number) => void = () => undefined,
  ) {
    this.periodic = new PeriodicTask(() => this.reconcile(), logger, 'reconcile pass failed; will retry');
  }

  /** One pass over all unresolved indexes; returns how many jobs it added or retried. */
  async reconcile(): Promise<number> {
    // Keyset over the flagged indexes, one bounded batch a statement, which also clears the flag of
    // those whose value is stored. Each index is looked up on its own (LATERAL, = ANY): a plan that
    // hashes every stored value instead (what Postgres picks for EXISTS when its statistics predate a
    // burst of new indexes) would read the whole results table each batch. A row a submission holds
    // locked right now is left flagged for the next pass (SKIP LOCKED): the reconciler never waits for
    // the API, nor deadlocks with it.
    let repaired = 0;
    let after = -1;
    for (;;) {
      const { rows } = await this.pool.query<{ index: number; stored: boolean }>({
        name: 'flagged-indexes',
        text: `WITH batch AS MATERIALIZED (
                 SELECT s.index, r.index IS NOT NULL AS stored
                 FROM submitted_indexes s
                 LEFT JOIN LATERAL (SELECT index FROM results WHERE index = s.index LIMIT 1) r ON true
                 WHERE s.pending AND s.index > $1 ORDER BY s.index LIMIT $2
               ), cleared AS (
                 UPDATE submitted_indexes SET pending = false
                 WHERE index = ANY (ARRAY(SELECT index FROM submitted_indexes
                                          WHERE index = ANY (ARRAY(SELECT index FROM batch WHERE stored)) AND pending
                                          FOR UPDATE SKIP LOCKED))
               )
               SELECT index, stored FROM batch ORDER BY index`,
        values: [after, BATCH],
      });
      repaired += await this.ensureJobs(rows.filter((row) => !row.stored).map((row) => row.index));
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1]!.index;
    }
    if (repaired > 0) {
      this.logger.info({ repaired }, 'reconciler re-queued unresolved submissions');
      this.onRequeued(repaired);
    }
    return repaired;
  }

  private async ensureJobs(indexes: number[]): Promise<number> {
    const jobs = await Promise.all(indexes.map((index) => this.queue.getJob(jobIdFor(index))));
    const missing: number[] = [];
    let retried = 0;
    await Promise.all(
      jobs.map(async (job, i) => {
        if (!job) return void missing.push(indexes[i]!);
        if (await job.isFailed()) {
          // Its attempts are spent; a fresh set lets the usual backoff apply again.
          await job.retry('failed', { resetAttemptsMade: true });
          retried++;
        }
      }),
    );
    // Nothing missing is the usual case: no round trip (and no empty traced add) for it.
    if (missing.length) {
      await this.queue.addBulk(missing.map((index) => fibonacciJob({ index, requestId: 'reconciler' })));
    }
    return missing.length + retried;
  }

  /** Reconciles now and then every `intervalMs`; errors (an outage) are logged and retried next time. */
  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    await this.periodic.stop();
  }
}
