import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeTestPool, createTestDatabase, testPool } from '@fibstack/devstack/test-database';
import { eventually, sleep } from '@fibstack/devstack/testkit';
import { migrate } from './migrate.js';

/**
 * Migration 002: every result gets an id that is its event id on the live stream, handed out in the
 * order commits become visible (the stream reads `WHERE id > last seen`, so a smaller id showing up
 * later would never be sent).
 */
const silent = pino({ level: 'silent' });
const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));
const pools: pg.Pool[] = [];

function openPool(url: string, max = 10): pg.Pool {
  const pool = testPool({ connectionString: url, max });
  pools.push(pool);
  return pool;
}

const insert = (index: number) => ({
  text: `INSERT INTO results (index, value, digits, compute_ms) VALUES ($1, '1', 1, 0) RETURNING id::int`,
  values: [index],
});

let url: string;
beforeAll(async () => {
  url = await createTestDatabase(inject('postgresAdminUrl'));
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => closeTestPool(pool)));
});

describe('results event ids (migration 002)', () => {
  it('gives the results already stored ids of their own, and new ones ids after them', async () => {
    // A database at migration 001 with data in it, as every deployment before this change has.
    const before = await mkdtemp(join(tmpdir(), 'fibstack-migrations-'));
    try {
      await copyFile(join(MIGRATIONS, '001_submissions_and_results.sql'), join(before, '001_submissions_and_results.sql'));
      const old = openPool(await createBareDatabase(), 1);
      await migrate(old, silent, pathToFileURL(`${before}/`));
      await old.query(`INSERT INTO results (index, value, digits, compute_ms) SELECT i, '1', 1, 0 FROM generate_series(1, 500) AS i`);

      expect(await migrate(old, silent)).toContain('002_results_event_ids.sql');
      const { rows } = await old.query<{ n: number; distinct: number; nulls: number; max: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct, count(*) FILTER (WHERE id IS NULL)::int AS nulls, max(id)::int AS max FROM results',
      );
      expect(rows[0]).toEqual({ n: 500, distinct: 500, nulls: 0, max: 500 });
      expect((await old.query<{ id: number }>(insert(501))).rows[0]!.id).toBe(501);
      await expect(old.query(`INSERT INTO results (id, index, value, digits, compute_ms) VALUES (1, 502, '1', 1, 0)`)).rejects.toThrow(
        /cannot insert a non-DEFAULT value into column "id"/,
      );
    } finally {
      await rm(before, { recursive: true, force: true });
    }
  });

  it('never lets a reader see an id before a smaller one commits: a second writer waits for the first', async () => {
    const pool = openPool(url);
    const first = await pool.connect();
    try {
      await first.query('BEGIN');
      const firstId = (await first.query<{ id: number }>(insert(1_001))).rows[0]!.id;
      // The second writer starts while the first has drawn its id but not committed.
      const second = await backendPidOf(pool);
      const secondInsert = second.client.query<{ id: number }>(insert(1_002));
      let secondDone = false;
      void secondInsert.then(() => (secondDone = true)).catch(() => undefined);
      await eventually(
        async () => secondDone || (await waitsForALock(pool, second.pid)),
        10_000,
        'the second insert to commit or to wait for a lock',
      );
      // A reader between the two: whatever it sees, no row it has not seen may later commit below it.
      const seen = (await pool.query<{ id: number }>('SELECT id::int FROM results WHERE id >= $1 ORDER BY id', [firstId])).rows.map(
        (row) => row.id,
      );
      const watermark = Math.max(firstId - 1, ...seen);
      await first.query('COMMIT');
      const secondId = (await secondInsert).rows[0]!.id;
      second.client.release();
      const { rows } = await pool.query<{ id: number }>('SELECT id::int FROM results WHERE id > $1 AND id <= $2 ORDER BY id', [
        firstId - 1,
        watermark,
      ]);
      expect(rows.map((row) => row.id)).toEqual(seen);
      expect(secondDone).toBe(true);
      expect(secondId).toBeGreaterThan(firstId);
    } finally {
      first.release();
    }
  });

  it('lets a reader that polls `id > last seen` meet every row, with many writers committing at once', async () => {
    const pool = openPool(url, 12);
    const start = (await pool.query<{ id: number | null }>('SELECT max(id)::int AS id FROM results')).rows[0]!.id ?? 0;
    const writers = 8;
    const perWriter = 40;
    let writing = true;
    const collected: number[] = [];
    const reader = (async () => {
      let last = start;
      for (;;) {
        // Writing was over before this pass began: the pass reads the last commits, then the reader stops.
        const lastPass = !writing;
        const { rows } = await pool.query<{ id: number }>('SELECT id::int FROM results WHERE id > $1 ORDER BY id LIMIT 50', [last]);
        for (const row of rows) collected.push(row.id);
        last = rows.at(-1)?.id ?? last;
        if (lastPass && rows.length === 0) return;
      }
    })();
    await Promise.all(
      Array.from({ length: writers }, async (_, writer) => {
        const client = await pool.connect();
        try {
          for (let i = 0; i < perWriter; i++) {
            // A transaction that draws its id, then takes a while to commit: the window the lock closes.
            await client.query('BEGIN');
            await client.query(insert(10_000 + writer * perWriter + i));
            await sleep(Math.random() * 3);
            await client.query('COMMIT');
          }
        } finally {
          client.release();
        }
      }),
    );
    writing = false;
    await reader;
    const all = (await pool.query<{ id: number }>('SELECT id::int FROM results WHERE id > $1 ORDER BY id', [start])).rows.map(
      (row) => row.id,
    );
    expect(all).toHaveLength(writers * perWriter);
    expect(collected).toEqual(all);
  });
});

/** A new empty database on the run's Postgres (no migrations applied). */
async function createBareDatabase(): Promise<string> {
  const admin = openPool(inject('postgresAdminUrl'), 1);
  const name = `bare_${Math.random().toString(16).slice(2, 10)}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const target = new URL(inject('postgresAdminUrl'));
  target.pathname = `/${name}`;
  return target.toString();
}

async function backendPidOf(pool: pg.Pool): Promise<{ client: pg.PoolClient; pid: number }> {
  const client = await pool.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  return { client, pid };
}

async function waitsForALock(pool: pg.Pool, pid: number): Promise<boolean> {
  const { rows } = await pool.query<{ waiting: boolean }>(
    "SELECT wait_event_type = 'Lock' AS waiting FROM pg_stat_activity WHERE pid = $1",
    [pid],
  );
  return rows[0]?.waiting === true;
}
