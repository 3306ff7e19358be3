import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, inject } from 'vitest';
import { QUEUE_NAME, type JobData } from '@fibstack/contract/jobs';
import type { NativeRedis } from '@fibstack/devstack/redis';
import { closeTestPool, createTestDatabase, startTestRedis, testPool } from '@fibstack/devstack/test-database';

export interface TestStores {
  databaseUrl: string;
  redisUrl: string;
  pool: pg.Pool;
  redis: Redis;
  queue: Queue<JobData>;
}

/**
 * A database and a Redis of the calling test file's own, with the Fibonacci queue on them, emptied after
 * every test. The fields are set in `beforeAll`: read them inside tests and hooks.
 */
export function useTestStores(): TestStores {
  const stores = {} as TestStores;
  let redisServer: NativeRedis;
  beforeAll(async () => {
    stores.databaseUrl = await createTestDatabase(inject('postgresAdminUrl'));
    redisServer = await startTestRedis();
    stores.redisUrl = redisServer.url;
    stores.pool = testPool({ connectionString: stores.databaseUrl });
    stores.redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
    stores.queue = new Queue<JobData>(QUEUE_NAME, { connection: stores.redis });
  });
  afterEach(async () => {
    await stores.pool.query('TRUNCATE submitted_indexes, results');
    await stores.redis.flushall();
  });
  afterAll(async () => {
    await stores.queue.close();
    stores.redis.disconnect();
    await closeTestPool(stores.pool);
    await redisServer.stop();
  });
  return stores;
}

/** Records submissions of `indexes` as the API does: one row per index, counting repeats, flagged pending. */
export async function recordSubmissions(pool: pg.Pool, indexes: number[]): Promise<void> {
  await pool.query(
    `INSERT INTO submitted_indexes AS s (index, submissions)
     SELECT index, count(*) FROM unnest($1::int[]) AS submitted (index) GROUP BY index
     ON CONFLICT (index) DO UPDATE SET submissions = s.submissions + EXCLUDED.submissions, pending = true`,
    [indexes],
  );
}
