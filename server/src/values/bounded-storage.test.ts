import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

/**
 * Issue 22: a client repeating one index must not grow the database. Counted over every table of the
 * schema, whatever it holds, so the same check measures any schema (the one-row-per-submission table
 * before migration 003 added a row per POST).
 */
let t: AppUnderTest;
let server: Server;
let base: string;

beforeAll(async () => {
  t = await startAppUnderTest();
  server = createServer(t.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

/** Rows in each table of the public schema. */
async function rowsByTable(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ name: string; n: number }>(
    `SELECT table_name AS name,
            (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM public.%I', table_name), false, true, '')))[1]::text::int AS n
     FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
  );
  return Object.fromEntries(rows.map(({ name, n }) => [name, n]));
}

const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, n) => sum + n, 0);

/** `amount` POSTs of `index`, `concurrency` at a time, each answered 202 or 200. */
async function postRepeatedly(index: number, amount: number, concurrency: number): Promise<void> {
  let sent = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < amount) {
        sent++;
        const response = await fetch(`${base}/api/values`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ index }),
        });
        await response.arrayBuffer();
        if (response.status !== 202 && response.status !== 200) throw new Error(`POST answered ${response.status}`);
      }
    }),
  );
}

describe('storage a client cannot grow', () => {
  it('5,000 POSTs of one index add at most a constant number of rows', async () => {
    await postRepeatedly(7, 1, 1);
    const before = await rowsByTable(t.pool);
    await postRepeatedly(7, 5_000, 50);
    const after = await rowsByTable(t.pool);

    // The worker is not running: nothing stores a value, so not even the value's row is added.
    expect(total(after) - total(before)).toBe(0);
    expect(after).toEqual(before);
    // Every one of them counted, and one job for them all.
    const { rows } = await t.pool.query('SELECT index, submissions::int AS submissions FROM submitted_indexes');
    expect(rows).toEqual([{ index: 7, submissions: 5_001 }]);
    expect(await t.jobCount()).toBe(1);
  });

  it('keeps the table to one page while repeats come in, and vacuum leaves no dead row version', async () => {
    const table = async () =>
      (
        await t.pool.query<{ dead: number; pages: number }>(
          `SELECT n_dead_tup::int AS dead, (pg_relation_size('submitted_indexes') / 8192)::int AS pages
           FROM pg_stat_user_tables WHERE relname = 'submitted_indexes'`,
        )
      ).rows[0]!;
    await postRepeatedly(8, 2_000, 50);
    // Each statement that counted repeats left the row's previous version behind (POSTs that arrive
    // together share one statement, so there are fewer versions than POSTs), and the page they share is
    // pruned as it fills: the table stays one page without waiting for vacuum.
    expect((await table()).pages).toBe(1);
    await t.pool.query('VACUUM submitted_indexes');
    expect(await table()).toMatchObject({ dead: 0, pages: 1 });
  });
});
