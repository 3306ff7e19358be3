import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;

beforeAll(async () => {
  t = await startAppUnderTest({ STORAGE_BUDGET_GIB: '20' });
});
afterAll(() => t.close());

/** The value of a label-less sample in a Prometheus text exposition. */
function sample(text: string, name: string): number {
  const line = text.split('\n').find((row) => row.startsWith(`${name} `));
  return Number(line?.slice(name.length + 1));
}

describe('storage metrics, for the disk-usage alert', () => {
  it('exports the storage budget and the database size read at each scrape', async () => {
    const first = (await request(t.app).get('/metrics')).text;
    expect(sample(first, 'fibstack_storage_budget_bytes')).toBe(20 * 1024 ** 3);
    const size = sample(first, 'fibstack_database_size_bytes');
    const { rows } = await t.pool.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
    expect(size).toBeGreaterThan(0);
    expect(Math.abs(size - Number(rows[0]!.bytes))).toBeLessThan(1024 * 1024);

    // 8 MB of digits more (stored uncompressed), and the next scrape says so.
    await t.pool.query(
      `INSERT INTO results (index, value, digits, compute_ms) SELECT i, repeat('9', 400000), 400000, 1 FROM generate_series(1, 20) AS i`,
    );
    const grown = sample((await request(t.app).get('/metrics')).text, 'fibstack_database_size_bytes');
    expect(grown - size).toBeGreaterThan(8_000_000);
  });
});
