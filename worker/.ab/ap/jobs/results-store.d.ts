import type pg from 'pg';
/** The worker's reads and writes of the results table. */
export declare class ResultsStore {
    private readonly pool;
    private readonly inserts;
    constructor(pool: pg.Pool);
    has(index: number): Promise<boolean>;
    /**
     * Stores a value once (committed when this resolves). A second write of the same index (a retried or
     * duplicated job) changes nothing and returns undefined, so only the first writer announces the result.
     */
    insert(index: number, value: string, computeMs: number): Promise<Date | undefined>;
    private insertAll;
}
