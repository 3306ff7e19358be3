import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeTestPool, createTestDatabase, testPool } from '@fibstack/devstack/test-database';
import { fibonacciDigits, fitsBudget, largestMaxIndexFor, storedBytesOf, storedBytesUpTo } from './storage-budget.js';

let pool: pg.Pool;

beforeAll(async () => {
  pool = testPool({ connectionString: await createTestDatabase(inject('postgresAdminUrl')) });
});
afterAll(async () => {
  await closeTestPool(pool);
});

/** Stores, as the API and the worker do, a submission and a value of F(n)'s length for each of `indexes`; returns the bytes added on disk. */
async function storedBytesMeasured(indexes: number[]): Promise<number> {
  await pool.query('TRUNCATE submitted_indexes, results');
  const size = async () =>
    Number(
      (
        await pool.query<{ bytes: string }>(
          `SELECT pg_total_relation_size('results') + pg_total_relation_size('submitted_indexes') AS bytes`,
        )
      ).rows[0]!.bytes,
    );
  const before = await size();
  await pool.query(`INSERT INTO submitted_indexes (index, submissions) SELECT index, 1 FROM unnest($1::int[]) AS index ORDER BY index`, [
    indexes,
  ]);
  // Digits are stored uncompressed (STORAGE EXTERNAL): only their number matters, not which they are.
  for (let i = 0; i < indexes.length; i += 200) {
    const batch = indexes.slice(i, i + 200);
    await pool.query(
      `INSERT INTO results (index, value, digits, compute_ms)
       SELECT index, repeat('7', digits), digits, 1 FROM unnest($1::int[], $2::int[]) AS v (index, digits)`,
      [batch, batch.map(fibonacciDigits)],
    );
  }
  return (await size()) - before;
}

const every = (from: number, to: number, step: number) => Array.from({ length: Math.ceil((to - from) / step) }, (_, i) => from + i * step);

describe('the storage estimate behind MAX_INDEX and STORAGE_BUDGET_GIB', () => {
  it('counts F(n)’s digits', () => {
    expect([0, 1, 2, 10, 100, 1_000].map(fibonacciDigits)).toEqual([1, 1, 1, 2, 21, 209]);
  });

  it.each([
    ['stored in their rows', every(0, 9_500, 5)],
    ['moved out to TOAST chunks', every(10_000, 200_000, 397)],
  ])('matches what Postgres takes on disk for values %s, within 5%', async (_where, indexes) => {
    const measured = await storedBytesMeasured(indexes);
    const estimated = indexes.reduce((sum, n) => sum + storedBytesOf(n), 0);
    expect(estimated / measured).toBeGreaterThan(0.95);
    expect(estimated / measured).toBeLessThan(1.05);
  });

  it('sums every index up to MAX_INDEX as adding them one by one would', () => {
    for (const maxIndex of [0, 1, 100, 9_519, 9_520, 50_000, 300_000]) {
      let sum = 0;
      for (let n = 0; n <= maxIndex; n++) sum += storedBytesOf(n);
      expect(Math.abs(storedBytesUpTo(maxIndex) / sum - 1)).toBeLessThan(1e-3);
    }
  });

  it('fits the default MAX_INDEX in the default budget, and says which MAX_INDEX 10 GiB holds', () => {
    expect(fitsBudget(100_000, 10)).toBe(true);
    expect(largestMaxIndexFor(10)).toBe(277_468);
    expect(fitsBudget(277_468, 10)).toBe(true);
    expect(fitsBudget(277_469, 10)).toBe(false);
    expect(fitsBudget(1_000_000, 10)).toBe(false);
  });
});
