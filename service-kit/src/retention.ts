import type pg from 'pg';
import type { Logger } from 'pino';
import { PeriodicTask } from './periodic-task.js';

/** How often the worker sweeps: retention is counted in days, so once an hour is soon enough. */
export const RETENTION_SWEEP_INTERVAL_MS = 3_600_000;
/** Indexes (with their values) deleted per statement at most, so no sweep holds many locks or a long transaction. */
const BATCH = 1_000;

/**
 * The retention policy: what the database keeps is, per index submitted, how often and when it was
 * submitted and its value (migration 003). An index nobody submitted for `days` days is deleted with
 * its value; submitting it again later starts it afresh (computed again, counted from one).
 *
 * Each statement looks at the `batch` indexes submitted longest ago (the start of the index on
 * last_submission: ids grow with time, so no index on the time itself is needed) and deletes those
 * older than the limit, so a sweep reads what it deletes and one batch more. A submission that
 * repeats an index at the same moment wins: the delete re-checks the row's time once the submission's
 * lock is gone. The live stream is not disturbed: a deleted result's id is never reused, and a stream
 * only ever reads ids after the last one it sent.
 */
export class Retention {
  private readonly periodic: PeriodicTask;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: Logger,
    private readonly days: number,
    private readonly batch = BATCH,
  ) {
    this.periodic = new PeriodicTask(() => this.sweep(), logger, 'retention sweep failed; will retry');
  }

  /** Deletes every index not submitted for `days` days, and its value; returns how many and in how many statements. */
  async sweep(): Promise<{ indexes: number; values: number; statements: number }> {
    const total = { indexes: 0, values: 0, statements: 0 };
    for (;;) {
      const { rows } = await this.pool.query<{ indexes: number; values: number }>({
        name: 'retention-sweep',
        text: `WITH oldest AS (
                 SELECT index FROM submitted_indexes ORDER BY last_submission LIMIT $2
               ), gone AS (
                 DELETE FROM submitted_indexes
                 WHERE index = ANY (ARRAY(SELECT index FROM oldest)) AND last_submitted_at < now() - make_interval(days => $1)
                 RETURNING index
               ), values_gone AS (
                 DELETE FROM results WHERE index = ANY (ARRAY(SELECT index FROM gone)) RETURNING index
               )
               SELECT (SELECT count(*) FROM gone)::int AS indexes, (SELECT count(*) FROM values_gone)::int AS values`,
        values: [this.days, this.batch],
      });
      const { indexes, values } = rows[0]!;
      total.indexes += indexes;
      total.values += values;
      total.statements++;
      // A batch not all expired reached the indexes still kept.
      if (indexes < this.batch) break;
    }
    if (total.indexes > 0) this.logger.info({ ...total, retentionDays: this.days }, 'retention deleted indexes not submitted for a while');
    return total;
  }

  /** Sweeps now and then every `intervalMs`; a failed sweep (an outage) is logged and tried again next time. */
  start(intervalMs: number): void {
    this.periodic.start(intervalMs);
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    await this.periodic.stop();
  }
}
