import type pg from 'pg';

/** The worker's reads and writes of the results table. */
export class ResultsStore {
  constructor(private readonly pool: pg.Pool) {}

  async has(index: number): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: 'has-result',
      text: 'SELECT 1 FROM results WHERE index = $1',
      values: [index],
    });
    return rowCount !== 0;
  }

  /**
   * Stores a value once. A second write of the same index (a retried or duplicated job) changes
   * nothing and returns undefined, so only the first writer announces the result.
   */
  async insert(index: number, value: string, computeMs: number): Promise<Date | undefined> {
    const { rows } = await this.pool.query<{ computed_at: Date }>({
      name: 'insert-result',
      text: `INSERT INTO results (index, value, digits, compute_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (index) DO NOTHING RETURNING computed_at`,
      values: [index, value, value.length, computeMs],
    });
    return rows[0]?.computed_at;
  }
}
