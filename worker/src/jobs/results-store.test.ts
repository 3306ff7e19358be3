import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeTestPool, createTestDatabase, testPool } from '@fibstack/devstack/test-database';
import { ResultsStore } from './results-store.js';

let pool: pg.Pool;

beforeAll(async () => {
  pool = testPool({ connectionString: await createTestDatabase(inject('postgresAdminUrl')) });
});

afterAll(async () => {
  await closeTestPool(pool);
});

describe('ResultsStore', () => {
  it('stores values inserted together, and tells each caller whether it was the writer', async () => {
    const store = new ResultsStore(pool);
    const writes = await Promise.all([
      store.insert(7, '13', 0.1),
      store.insert(8, '21', 0.2),
      store.insert(7, '13', 0.3),
      store.insert(9, '34', 0.4),
    ]);
    expect(writes.map((computedAt) => computedAt instanceof Date)).toEqual([true, true, false, true]);
    const { rows } = await pool.query('SELECT index, value, digits, compute_ms FROM results ORDER BY index');
    expect(rows).toEqual([
      { index: 7, value: '13', digits: 2, compute_ms: 0.1 },
      { index: 8, value: '21', digits: 2, compute_ms: 0.2 },
      { index: 9, value: '34', digits: 2, compute_ms: 0.4 },
    ]);
    expect(await store.insert(8, '21', 0.5)).toBeUndefined();
    expect(await store.has(8)).toBe(true);
    expect(await store.has(10)).toBe(false);
  });

  it('fails every caller of a batch the database rejects, storing none of it', async () => {
    const store = new ResultsStore(pool);
    const writes = await Promise.allSettled([store.insert(100, '354224848179261915075', 0.1), store.insert(101, 'not digits', 0.1)]);
    expect(writes.map((write) => write.status)).toEqual(['rejected', 'rejected']);
    expect((await pool.query('SELECT 1 FROM results WHERE index IN (100, 101)')).rowCount).toBe(0);
  });
});
