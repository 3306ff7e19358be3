import type pg from 'pg';
import { PREVIEW_DIGITS } from '@fibstack/contract/values';

export interface StoredResult {
  value: string;
  digits: number;
}

export interface SubmissionRow {
  id: string;
  index: number;
  submittedAt: Date;
  /** At most PREVIEW_DIGITS + 1 leading digits: enough to tell whether the value was shortened. */
  valueHead: string | null;
  digits: number | null;
}

export interface ResultRow {
  value: string;
  digits: number;
  computedAt: Date;
  computeMs: number;
}

const HEAD = PREVIEW_DIGITS + 1;

/**
 * Every SQL statement the API runs. Named statements are prepared once per connection; the value
 * column is stored uncompressed, so `substr` reads only the head of a long value.
 */
export class ValuesStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Records a submission and, in the same round trip, returns the value if it is already known. */
  async submit(index: number): Promise<StoredResult | undefined> {
    const { rows } = await this.pool.query<{ value: string; digits: number }>({
      name: 'submit-value',
      text: `WITH submitted AS (INSERT INTO submissions (index) VALUES ($1) RETURNING index)
             SELECT substr(r.value, 1, $2) AS value, r.digits FROM results r WHERE r.index = $1`,
      values: [index, HEAD],
    });
    return rows[0];
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

  async findResult(index: number): Promise<ResultRow | undefined> {
    const { rows } = await this.pool.query<ResultRow>({
      name: 'find-result',
      text: `SELECT value, digits, computed_at AS "computedAt", compute_ms AS "computeMs" FROM results WHERE index = $1`,
      values: [index],
    });
    return rows[0];
  }

  async wasSubmitted(index: number): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'was-submitted',
      text: 'SELECT 1 FROM submissions WHERE index = $1 LIMIT 1',
      values: [index],
    });
    return rowCount !== 0;
  }
}
