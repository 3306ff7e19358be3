import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeTestPool, createTestDatabase, testPool } from '@fibstack/devstack/test-database';
import { eventually } from '@fibstack/devstack/testkit';
import { Retention } from './retention.js';

const silent = pino({ level: 'silent' });
let pool: pg.Pool;

beforeAll(async () => {
  pool = testPool({ connectionString: await createTestDatabase(inject('postgresAdminUrl')) });
});
afterEach(async () => {
  await pool.query('TRUNCATE submitted_indexes, results RESTART IDENTITY');
});
afterAll(async () => {
  await closeTestPool(pool);
});

/**
 * `indexes`, each last submitted `daysAgo` days ago, in the order given (ids grow with time, as the
 * API's do), with a value stored for each.
 */
async function submittedDaysAgo(indexes: number[], daysAgo: number): Promise<void> {
  await pool.query(
    `INSERT INTO submitted_indexes (index, submissions, first_submitted_at, last_submitted_at)
     SELECT index, 1, now() - make_interval(days => $2), now() - make_interval(days => $2)
     FROM unnest($1::int[]) WITH ORDINALITY AS s (index, n) ORDER BY n`,
    [indexes, daysAgo],
  );
  await pool.query(`INSERT INTO results (index, value, digits, compute_ms) SELECT index, '1', 1, 0 FROM unnest($1::int[]) AS index`, [
    indexes,
  ]);
}

async function indexesIn(table: 'submitted_indexes' | 'results'): Promise<number[]> {
  return (await pool.query<{ index: number }>(`SELECT index FROM ${table} ORDER BY index`)).rows.map((row) => row.index);
}

describe('retention', () => {
  it('deletes the indexes not submitted for RETENTION_DAYS days with their values, and keeps the rest', async () => {
    await submittedDaysAgo([1, 2, 3], 40);
    await submittedDaysAgo([4], 31);
    await submittedDaysAgo([5, 6], 29);
    await submittedDaysAgo([7], 0);
    expect(await new Retention(pool, silent, 30).sweep()).toEqual({ indexes: 4, values: 4, statements: 1 });
    expect(await indexesIn('submitted_indexes')).toEqual([5, 6, 7]);
    expect(await indexesIn('results')).toEqual([5, 6, 7]);
    expect(await new Retention(pool, silent, 30).sweep()).toEqual({ indexes: 0, values: 0, statements: 1 });
  });

  it('keeps an index submitted long ago and again lately, whatever its first submission', async () => {
    await submittedDaysAgo([10, 11], 90);
    // Submitted again today, as the API records a repeat: its latest submission id and time move on.
    await pool.query(`UPDATE submitted_indexes SET submissions = 2, last_submitted_at = now(), last_submission = nextval('submission_ids')
                      WHERE index = 10`);
    await new Retention(pool, silent, 30).sweep();
    expect(await indexesIn('submitted_indexes')).toEqual([10]);
    expect(await indexesIn('results')).toEqual([10]);
  });

  it('deletes in statements of a bounded batch, and reads only one batch past what it deletes', async () => {
    await submittedDaysAgo([...Array(250).keys()], 60);
    await submittedDaysAgo(
      [...Array(5_000).keys()].map((i) => 1_000 + i),
      1,
    );
    const retention = new Retention(pool, silent, 30, 100);
    // 100 + 100 + 50: the third batch, not all expired, ends the sweep; the 5,000 kept are never walked.
    expect(await retention.sweep()).toEqual({ indexes: 250, values: 250, statements: 3 });
    expect(await indexesIn('submitted_indexes')).toHaveLength(5_000);
  });

  it('waits for a submission of the same index in progress, and then keeps it', async () => {
    await submittedDaysAgo([20], 45);
    const submitting = await pool.connect();
    try {
      await submitting.query('BEGIN');
      await submitting.query(`UPDATE submitted_indexes SET submissions = 2, last_submitted_at = now() WHERE index = 20`);
      const sweep = new Retention(pool, silent, 30).sweep();
      // The sweep chose the row while it was old, and waits for the submission to end.
      await eventually(
        async () =>
          (
            await pool.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'WITH oldest%'`,
            )
          ).rows[0]!.n === 1,
        10_000,
        'the sweep to wait for the row lock',
      );
      await submitting.query('COMMIT');
      expect(await sweep).toMatchObject({ indexes: 0, values: 0 });
    } finally {
      submitting.release();
    }
    expect(await indexesIn('results')).toEqual([20]);
  });

  it('sweeps at start and every interval until stopped, logging what it deleted and surviving a failed sweep', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const unreachable = testPool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 200 });
    const failing = new Retention(unreachable, logger, 30);
    failing.start(100);
    await eventually(
      () => lines.filter((line) => line.msg === 'retention sweep failed; will retry').length >= 2,
      10_000,
      'two failed sweeps',
    );
    await failing.stop();
    await closeTestPool(unreachable);

    const periodic = new Retention(pool, logger, 30);
    periodic.start(100);
    try {
      await submittedDaysAgo([30], 50);
      await eventually(async () => (await indexesIn('submitted_indexes')).length === 0, 10_000, 'a later sweep');
    } finally {
      await periodic.stop();
    }
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: 'retention deleted indexes not submitted for a while', indexes: 1, values: 1, retentionDays: 30 }),
    );
  });
});
