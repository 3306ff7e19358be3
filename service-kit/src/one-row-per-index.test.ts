import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { closeTestPool, testPool } from '@fibstack/devstack/test-database';
import { migrate } from './migrate.js';

/**
 * Migration 003: the submissions a database holds become one row per index, with how often and when it
 * was submitted, in the same order, and the reconciler's pending flag set where no value is stored.
 */
const silent = pino({ level: 'silent' });
const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));
const BEFORE_003 = ['001_submissions_and_results.sql', '002_results_event_ids.sql'];
const pools: pg.Pool[] = [];

afterAll(async () => {
  await Promise.all(pools.map((pool) => closeTestPool(pool)));
});

/** A new database of the run's Postgres with the migrations before 003 applied. */
async function databaseBefore003(): Promise<pg.Pool> {
  const admin = testPool({ connectionString: inject('postgresAdminUrl'), max: 1 });
  pools.push(admin);
  const name = `before003_${Math.random().toString(16).slice(2, 10)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const target = new URL(inject('postgresAdminUrl'));
  target.pathname = `/${name}`;
  const pool = testPool({ connectionString: target.toString(), max: 1 });
  pools.push(pool);
  const folder = await mkdtemp(join(tmpdir(), 'fibstack-migrations-'));
  try {
    for (const file of BEFORE_003) await copyFile(join(MIGRATIONS, file), join(folder, file));
    await migrate(pool, silent, pathToFileURL(`${folder}/`));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  return pool;
}

describe('one row per submitted index (migration 003)', () => {
  it('folds the submissions of a database in use into one row per index, keeping counts, times and order', async () => {
    const pool = await databaseBefore003();
    // Index 5 three times, 7 once (its value stored), 9 twice, 5 last of all.
    const at = (minute: number) => `2026-01-01T00:${String(minute).padStart(2, '0')}:00Z`;
    await pool.query(
      `INSERT INTO submissions (index, submitted_at) SELECT index, submitted_at
       FROM unnest($1::int[], $2::timestamptz[]) AS s(index, submitted_at)`,
      [[5, 7, 9, 5, 9, 5], [1, 2, 3, 4, 5, 6].map(at)],
    );
    await pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (7, '13', 2, 0)`);

    expect(await migrate(pool, silent)).toEqual(['003_one_row_per_index.sql']);
    const { rows } = await pool.query<{ index: number; submissions: number; first: string; last: string; id: number; pending: boolean }>(
      `SELECT index, submissions::int, to_char(first_submitted_at AT TIME ZONE 'UTC', 'MI') AS first,
              to_char(last_submitted_at AT TIME ZONE 'UTC', 'MI') AS last, last_submission::int AS id, pending
       FROM submitted_indexes ORDER BY last_submission DESC`,
    );
    expect(rows).toEqual([
      { index: 5, submissions: 3, first: '01', last: '06', id: 6, pending: true },
      { index: 9, submissions: 2, first: '03', last: '05', id: 5, pending: true },
      { index: 7, submissions: 1, first: '02', last: '02', id: 2, pending: false },
    ]);
    expect((await pool.query(`SELECT to_regclass('submissions') AS old`)).rows[0]).toEqual({ old: null });
    // A submission after the upgrade comes after every one before it.
    const next = await pool.query<{ id: number }>(
      `INSERT INTO submitted_indexes (index, submissions) VALUES (11, 1) RETURNING last_submission::int AS id`,
    );
    expect(next.rows[0]!.id).toBe(7);
  });

  it('upgrades an empty database, whose first submission gets id 1', async () => {
    const pool = await databaseBefore003();
    expect(await migrate(pool, silent)).toEqual(['003_one_row_per_index.sql']);
    const next = await pool.query<{ id: number }>(
      `INSERT INTO submitted_indexes (index, submissions) VALUES (0, 1) RETURNING last_submission::int AS id`,
    );
    expect(next.rows[0]!.id).toBe(1);
  });
});
