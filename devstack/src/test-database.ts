import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
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

const openClients = new WeakMap<pg.Pool, Set<pg.Client>>();

/**
 * A pool for tests. Postgres ending one of its idle connections (an outage test, a forced DROP DATABASE)
 * must not become an uncaught error in the test process, so the pool has an error listener (the next
 * query gets a fresh connection). It also tracks its connections, for `closeTestPool`.
 */
export function testPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => undefined);
  const open = new Set<pg.Client>();
  openClients.set(pool, open);
  pool.on('connect', (client) => {
    open.add(client);
    client.once('end', () => open.delete(client));
  });
  return pool;
}

/**
 * Ends a `testPool` and waits until every one of its connections has closed. `pool.end()` alone resolves
 * while Postgres may still be reading the goodbye of the last connections: dropping or stopping the
 * database then would end them with an error (57P01) the test never handles.
 */
export async function closeTestPool(pool: pg.Pool): Promise<void> {
  const closed = [...(openClients.get(pool) ?? [])].map((client) => new Promise<void>((resolve) => client.once('end', () => resolve())));
  await pool.end();
  await Promise.all(closed);
}

/**
 * Creates a fresh, migrated database on the test run's Postgres server and returns its URL.
 * Each test file gets its own, so files never see each other's rows.
 */
export async function createTestDatabase(adminUrl: string): Promise<string> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = testPool({ connectionString: url.toString(), max: 1 });
  try {
    await migrate(pool, pino({ level: 'silent' }));
  } finally {
    await closeTestPool(pool);
  }
  return url.toString();
}

/**
 * A real Redis of the test file's own, with a password of its own, on a free port (or `previous`'s port
 * and password, to bring one back where it was), with data in a temporary directory that stop() removes:
 * redis-server from PATH, or a container where only Docker is installed (never a shared REDIS_URL: tests
 * flush it).
 */
export async function startTestRedis(previous?: Pick<NativeRedis, 'port' | 'password'>): Promise<NativeRedis> {
  const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-test-redis-'));
  const options = { port: previous?.port ?? (await freePort()), password: previous?.password, dataDir };
  const redis = await startRedisFrom(findRedis({ ...process.env, REDIS_URL: '' }), options).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  return {
    ...redis,
    async stop() {
      await redis.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
