import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { migrate } from '@fibstack/service-kit/migrate';
import { freePort } from './ports.js';
import { findRedis, startRedisFrom, type NativeRedis } from './redis.js';
import type {} from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the throwaway Postgres server started for this test run (vitest-postgres.ts). */
    postgresAdminUrl: string;
  }
}

/**
 * Creates a fresh, migrated database on the test run's Postgres server and returns its URL.
 * Each test file gets its own, so files never see each other's rows.
 */
export async function createTestDatabase(adminUrl: string): Promise<string> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 1 });
  try {
    await migrate(pool, pino({ level: 'silent' }));
  } finally {
    await pool.end();
  }
  return url.toString();
}

/**
 * A real Redis of the test file's own, on a free port, with data in a temporary directory: redis-server
 * from PATH, or a container where only Docker is installed (never a shared REDIS_URL: tests flush it).
 */
export async function startTestRedis(): Promise<NativeRedis> {
  const options = { port: await freePort(), dataDir: await mkdtemp(join(tmpdir(), 'fibstack-test-redis-')) };
  return startRedisFrom(findRedis({ ...process.env, REDIS_URL: '' }), options);
}
