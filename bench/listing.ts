import type { BenchStack } from './bench-stack.js';
import { machineLoad } from './cpu.js';
import { getPath } from './http-load.js';
import { round } from './stats.js';

/** GET /api/values?limit=50 (first page and a deep page) with `sizes[0]` and then `sizes[1]` submitted indexes stored. */
export async function listing(bench: BenchStack, { sizes, seconds }: { sizes: [number, number]; seconds: number }) {
  await bench.reset();
  const rows: Array<Record<string, number>> = [];
  for (const size of sizes) {
    const have = (await bench.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM submitted_indexes')).rows[0]!.n;
    await bench.pool.query(
      `INSERT INTO submitted_indexes (index, submissions) SELECT g, 1 + g % 3 FROM generate_series($1::int, $2::int - 1) AS g ORDER BY g`,
      [have, size],
    );
    await bench.pool.query(
      `INSERT INTO results (index, value, digits, compute_ms)
       SELECT g, repeat('7', 1 + g % 300), 1 + g % 300, 0.1 FROM generate_series(0, 99999) AS g ON CONFLICT DO NOTHING`,
    );
    // Settle the bulk load first, so background vacuum or checkpoint I/O does not land in the measurement.
    await bench.pool.query('VACUUM ANALYZE submitted_indexes, results');
    await bench.pool.query('CHECKPOINT');
    const first = await getPath(bench.stack.url, '/api/values?limit=50', 1, seconds);
    const deep = await getPath(bench.stack.url, `/api/values?limit=50&cursor=${Math.floor(size / 2)}`, 1, seconds);
    rows.push({ rows: size, firstPageP99Ms: first.p99Ms, firstPageRps: first.requestsPerSecond, deepPageP99Ms: deep.p99Ms });
  }
  return { rows, ratioP99: round(rows[1]!.firstPageP99Ms! / Math.max(rows[0]!.firstPageP99Ms!, 1)), load: machineLoad() };
}
