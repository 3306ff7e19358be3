import type pg from 'pg';
import { PREVIEW_DIGITS } from '@fibstack/contract/values';
import { MicroBatcher } from '@fibstack/service-kit/batch';

/** A known value as the submit query reads it: its head only (see IndexRow.valueHead), and its length. */
interface StoredResult {
  value: string;
  digits: number;
}

/** What a submission returns: its id (see IndexRow.lastSubmissionId) and the value if it is known. */
export interface Submitted {
  submissionId: string;
  known: StoredResult | undefined;
}

/** One row of the list of submitted indexes, joined with its result when there is one. */
export interface IndexRow {
  index: number;
  /** How many times it was submitted (bigint, as text). */
  submissions: string;
  firstSubmittedAt: Date;
  lastSubmittedAt: Date;
  /** The id of its latest submission: ids grow in the order submissions arrive. */
  lastSubmissionId: string;
  /** At most PREVIEW_DIGITS + 1 leading digits: enough to tell whether the value was shortened. */
  valueHead: string | null;
  digits: number | null;
}

/** A computed value, whole. */
export interface ResultRow {
  value: string;
  digits: number;
  computedAt: Date;
  computeMs: number;
}

const HEAD = PREVIEW_DIGITS + 1;

/** Submissions recorded per statement at most; more concurrent callers wait for the next one. */
const MAX_SUBMISSIONS_PER_STATEMENT = 500;
/** Submit statements in flight at once, each on its own pooled connection. */
const SUBMIT_STATEMENTS_IN_FLIGHT = 4;

/**
 * Every SQL statement the API runs. Named statements are prepared once per connection; the value
 * column is stored uncompressed, so `substr` reads only the head of a long value.
 */
export class ValuesStore {
  /** Concurrent submissions share one statement and one commit (see MicroBatcher). */
  private readonly submissions = new MicroBatcher((indexes: number[]) => this.submitAll(indexes), {
    maxBatch: MAX_SUBMISSIONS_PER_STATEMENT,
    maxInFlight: SUBMIT_STATEMENTS_IN_FLIGHT,
  });

  constructor(private readonly pool: pg.Pool) {}

  /**
   * Records a submission (committed when this resolves) and returns its id, and the value if it is
   * already known.
   */
  submit(index: number): Promise<Submitted> {
    return this.submissions.run(index);
  }

  /**
   * Records submissions with one statement, and reads the values already known. A repeated index adds
   * no row: its row counts one more submission and moves to the top of the list. Each index of the batch
   * gets a submission id, in the order the indexes first arrived (ids are drawn after the sort, in a
   * materialized step); its row is then written in index order, the same order in every statement, so
   * two batches that share indexes wait for each other instead of deadlocking.
   */
  private async submitAll(indexes: number[]): Promise<Submitted[]> {
    const { rows } = await this.pool.query<{ index: number; submissionId: string; value: string | null; digits: number | null }>({
      name: 'submit-values',
      text: `WITH batch AS MATERIALIZED (
               SELECT index, count(*) AS times, nextval('submission_ids') AS id
               FROM unnest($1::int[]) WITH ORDINALITY AS submitted (index, arrival)
               GROUP BY index ORDER BY min(arrival)
             ), recorded AS (
               INSERT INTO submitted_indexes AS s (index, submissions, last_submission)
               SELECT index, times, id FROM batch ORDER BY index
               ON CONFLICT (index) DO UPDATE SET
                 submissions = s.submissions + EXCLUDED.submissions,
                 last_submitted_at = EXCLUDED.last_submitted_at,
                 last_submission = EXCLUDED.last_submission,
                 pending = s.pending OR NOT EXISTS (SELECT 1 FROM results r WHERE r.index = EXCLUDED.index)
               RETURNING index, last_submission
             )
             SELECT rec.index, rec.last_submission::text AS "submissionId", substr(r.value, 1, $2) AS value, r.digits
             FROM recorded rec LEFT JOIN results r ON r.index = rec.index`,
      values: [indexes, HEAD],
    });
    const byIndex = new Map(
      rows.map(({ index, submissionId, value, digits }) => [
        index,
        { submissionId, known: value === null || digits === null ? undefined : { value, digits } },
      ]),
    );
    return indexes.map((index) => byIndex.get(index)!);
  }

  /** One page of submitted indexes, most recently submitted first, continuing below `beforeId` (keyset pagination). */
  async listIndexes(limit: number, beforeId?: string): Promise<IndexRow[]> {
    const select = `SELECT s.index, s.submissions::text AS submissions, s.first_submitted_at AS "firstSubmittedAt",
                           s.last_submitted_at AS "lastSubmittedAt", s.last_submission::text AS "lastSubmissionId",
                           substr(r.value, 1, ${HEAD}) AS "valueHead", r.digits
                    FROM submitted_indexes s LEFT JOIN results r ON r.index = s.index`;
    const { rows } = beforeId
      ? await this.pool.query<IndexRow>({
          name: 'list-indexes-after',
          text: `${select} WHERE s.last_submission < $2 ORDER BY s.last_submission DESC LIMIT $1`,
          values: [limit, beforeId],
        })
      : await this.pool.query<IndexRow>({
          name: 'list-indexes-first',
          text: `${select} ORDER BY s.last_submission DESC LIMIT $1`,
          values: [limit],
        });
    return rows;
  }

  /**
   * The whole value of an index, `'pending'` if it was submitted but not computed yet, or `'unknown'`
   * if it was never submitted, all in one round trip.
   */
  async findValue(index: number): Promise<ResultRow | 'pending' | 'unknown'> {
    const { rows } = await this.pool.query<Partial<ResultRow> & { submitted: boolean }>({
      name: 'find-value',
      text: `SELECT r.value, r.digits, r.computed_at AS "computedAt", r.compute_ms AS "computeMs",
                    EXISTS (SELECT 1 FROM submitted_indexes WHERE index = $1) AS submitted
             FROM (SELECT) AS one LEFT JOIN results r ON r.index = $1`,
      values: [index],
    });
    const row = rows[0]!;
    if (row.value != null && row.digits != null && row.computedAt != null && row.computeMs != null) {
      return { value: row.value, digits: row.digits, computedAt: row.computedAt, computeMs: row.computeMs };
    }
    return row.submitted ? 'pending' : 'unknown';
  }
}
