import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeTestPool, testPool } from '@fibstack/devstack/test-database';
import { migrate } from './migrate.js';

const silent = pino({ level: 'silent' });
let admin: pg.Client;
let url: string;
const pools: pg.Pool[] = [];

/** Every pool a test opens is closed (all its connections gone) before the database is dropped. */
function openPool(): pg.Pool {
  const pool = testPool({ connectionString: url, max: 1 });
  pools.push(pool);
  return pool;
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  admin.on('error', () => undefined);
  await admin.connect();
  await admin.query('CREATE DATABASE migrate_test');
  const target = new URL(inject('postgresAdminUrl'));
  target.pathname = '/migrate_test';
  url = target.toString();
});
afterAll(async () => {
  await Promise.all(pools.map((pool) => closeTestPool(pool)));
  await admin.query('DROP DATABASE IF EXISTS migrate_test WITH (FORCE)');
  await admin.end();
});

async function tableExists(pool: pg.Pool, name: string): Promise<boolean> {
  const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [name]);
  return rows[0]!.found !== null;
}

describe('migrate', () => {
  it('applies every migration once, even when several processes run it at the same time', async () => {
    const racing = Array.from({ length: 4 }, () => openPool());
    const applied = await Promise.all(racing.map((pool) => migrate(pool, silent)));
    expect(applied.flat()).toEqual(['001_submissions_and_results.sql', '002_results_event_ids.sql', '003_one_row_per_index.sql']);
    expect(await migrate(racing[0]!, silent)).toEqual([]);
    expect(await tableExists(racing[0]!, 'submitted_indexes')).toBe(true);
    expect(await tableExists(racing[0]!, 'submissions')).toBe(false);
    expect(await tableExists(racing[0]!, 'results')).toBe(true);
  });

  it('leaves a schema that only accepts valid rows', async () => {
    const pool = openPool();
    await expect(pool.query('INSERT INTO submitted_indexes (index, submissions) VALUES (-1, 1)')).rejects.toThrow(/check constraint/);
    await expect(pool.query('INSERT INTO submitted_indexes (index, submissions) VALUES (1, 0)')).rejects.toThrow(/check constraint/);
    await expect(pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (1, '12a', 3, 0)`)).rejects.toThrow(
      /check constraint/,
    );
    await expect(pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (1, '1', 2, 0)`)).rejects.toThrow(
      /check constraint/,
    );
  });

  it('rolls back a migration that fails, records only the ones before it, and stops there', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'fibstack-migrations-'));
    try {
      await writeFile(join(folder, '901_first.sql'), 'CREATE TABLE first_table (id int);');
      // The table is created before the statement that fails, so only a rollback removes it again.
      await writeFile(join(folder, '902_breaks.sql'), 'CREATE TABLE half_done (id int);\nSELECT 1 / 0;');
      await writeFile(join(folder, '903_after.sql'), 'CREATE TABLE after_table (id int);');
      const pool = openPool();
      await expect(migrate(pool, silent, pathToFileURL(`${folder}/`))).rejects.toThrow(
        /^migration 902_breaks\.sql failed: division by zero$/,
      );
      const { rows } = await pool.query<{ name: string }>("SELECT name FROM schema_migrations WHERE name LIKE '90%'");
      expect(rows.map((row) => row.name)).toEqual(['901_first.sql']);
      expect(await tableExists(pool, 'first_table')).toBe(true);
      expect(await tableExists(pool, 'half_done')).toBe(false);
      expect(await tableExists(pool, 'after_table')).toBe(false);
      // The advisory lock was let go: another run is not blocked, and fails the same way.
      await expect(migrate(openPool(), silent, pathToFileURL(`${folder}/`))).rejects.toThrow(/902_breaks\.sql/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
