import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {} from '@fibstack/devstack/test-database';
import { migrate } from './migrate.js';

const silent = pino({ level: 'silent' });
let admin: pg.Client;
let url: string;

beforeAll(async () => {
  admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
  await admin.connect();
  await admin.query('CREATE DATABASE migrate_test');
  const target = new URL(inject('postgresAdminUrl'));
  target.pathname = '/migrate_test';
  url = target.toString();
});
afterAll(async () => {
  await admin.query('DROP DATABASE IF EXISTS migrate_test WITH (FORCE)');
  await admin.end();
});

describe('migrate', () => {
  it('applies every migration once, even when several processes run it at the same time', async () => {
    const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 1 }));
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool, silent)));
      expect(applied.flat()).toEqual(['001_submissions_and_results.sql']);
      expect(await migrate(pools[0]!, silent)).toEqual([]);
      const { rows } = await pools[0]!.query(`SELECT to_regclass('submissions') AS s, to_regclass('results') AS r`);
      expect(rows[0]).toEqual({ s: 'submissions', r: 'results' });
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('leaves a schema that only accepts valid rows', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      await expect(pool.query('INSERT INTO submissions (index) VALUES (-1)')).rejects.toThrow(/check constraint/);
      await expect(
        pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (1, '12a', 3, 0)`),
      ).rejects.toThrow(/check constraint/);
      await expect(
        pool.query(`INSERT INTO results (index, value, digits, compute_ms) VALUES (1, '1', 2, 0)`),
      ).rejects.toThrow(/check constraint/);
    } finally {
      await pool.end();
    }
  });
});
