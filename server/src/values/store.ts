import type pg from 'pg';
import { PREVIEW_DIGITS } from '@fibstack/contract/values';
import { MicroBatcher } from '@fibstack/service-kit/batch';

/** A known value as the submit query reads it: its head only (see SubmissionRow.valueHead), and its length. */
export interface StoredResult {
  value: string;
  digits: number;
}

/** One row of the submissions list, joined with its result when there is one. */
export interface SubmissionRow {
  id: string;
  index: number;
  submittedAt: Date;
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

/** Submissions recorded per INSERT at most; more concurrent callers wait for the next statement. */
const MAX_SUBMISSIONS_PER_INSERT = 500;
/** Submit statements in flight at once, each on its own pooled connection. */
const SUBMIT_STATEMENTS_IN_FLIGHT = 4;

/**
 * Every SQL statement the API runs. Named statements are prepared once per connection; the value
 * column is stored uncompressed, so `substr` reads only the head of a long value.
 */
export class ValuesStore {
  /** Concurrent submissions share one INSERT and one commit (see MicroBatcher). */
  private readonly submissions = new MicroBatcher((indexes: number[]) => this.submitAll(indexes), {
    maxBatch: MAX_SUBMISSIONS_PER_INSERT,
    maxInFlight: SUBMIT_STATEMENTS_IN_FLIGHT,
  });

  constructor(private readonly pool: pg.Pool) {}

  /**
   * Records a submission (committed when this resolves) and returns the value if it is already known.
   */
  submit(index: number): Promise<StoredResult | undefined> {
    return this.submissions.run(index);
  }

  /** Records submissions in arrival order with one statement, and reads the values already known. */
  private async submitAll(indexes: number[]): Promise<Array<StoredResult | undefined>> {
    const { rows } = await this.pool.query<StoredResult & { index: number }>({
      name: 'submit-values',
      text: `WITH submitted AS (INSERT INTO submissions (index) SELECT * FROM unnest($1::int[]) RETURNING index)
             SELECT r.index, substr(r.value, 1, $2) AS value, r.digits FROM results r WHERE r.index = ANY ($1::int[])`,
      values: [indexes, HEAD],
    });
    const known = new Map(rows.map(({ index, value, digits }) => [index, { value, digits }]));
    return indexes.map((index) => known.get(index));
  }

  /** One page of submissions, newest first, continuing below `beforeId` (keyset pagination). */
  async listSubmissions(limit: number, beforeId?: string): Promise<SubmissionRow[]> {
    const select = `SELECT s.id::text AS id, s.index, s.submitted_at AS "submittedAt",
                           substr(r.value, 1, ${HEAD}) AS "valueHead", r.digits
                    FROM submissions s LEFT JOIN results r ON r.index = s.index`;
    const { rows } = beforeId
      ? await this.pool.query<SubmissionRow>({
          name: 'list-submissions-after',
          text: `${select} WHERE s.id < $2 ORDER BY s.id DESC LIMIT $1`,
          values: [limit, beforeId],
        })
      : await this.pool.query<SubmissionRow>({
          name: 'list-submissions-first',
          text: `${select} ORDER BY s.id DESC LIMIT $1`,
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
                    EXISTS (SELECT 1 FROM submissions WHERE index = $1) AS submitted
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
