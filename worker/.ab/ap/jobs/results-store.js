import { MicroBatcher } from '@fibstack/service-kit/batch';
/** Values stored per INSERT at most; jobs finishing together share one statement and one commit. */
const MAX_RESULTS_PER_INSERT = 200;
const INSERTS_IN_FLIGHT = 2;
/** The worker's reads and writes of the results table. */
export class ResultsStore {
    pool;
    inserts = new MicroBatcher((results) => this.insertAll(results), {
        maxBatch: MAX_RESULTS_PER_INSERT,
        maxInFlight: INSERTS_IN_FLIGHT,
    });
    constructor(pool) {
        this.pool = pool;
    }
    async has(index) {
        const { rowCount } = await this.pool.query({
            name: 'has-result',
            text: 'SELECT 1 FROM results WHERE index = $1',
            values: [index],
        });
        return rowCount !== 0;
    }
    /**
     * Stores a value once (committed when this resolves). A second write of the same index (a retried or
     * duplicated job) changes nothing and returns undefined, so only the first writer announces the result.
     */
    insert(index, value, computeMs) {
        return this.inserts.run({ index, value, computeMs });
    }
    async insertAll(results) {
        const { rows } = await this.pool.query({
            name: 'insert-results',
            text: `INSERT INTO results (index, value, digits, compute_ms)
             SELECT * FROM unnest($1::int[], $2::text[], $3::int[], $4::float8[])
             ON CONFLICT (index) DO NOTHING RETURNING index, computed_at`,
            values: [
                results.map((r) => r.index),
                results.map((r) => r.value),
                results.map((r) => r.value.length),
                results.map((r) => r.computeMs),
            ],
        });
        const stored = new Map(rows.map((row) => [row.index, row.computed_at]));
        // Should one batch hold the same index twice, the first caller counts as its writer.
        return results.map(({ index }) => {
            const computedAt = stored.get(index);
            stored.delete(index);
            return computedAt;
        });
    }
}
//# sourceMappingURL=results-store.js.map