import { once } from 'node:events';
import { Queue } from 'bullmq';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import { inject } from 'vitest';
import { QUEUE_NAME, type JobData } from '@fibstack/contract/jobs';
import { closeTestPool, createTestDatabase, startTestRedis, testPool } from '@fibstack/devstack/test-database';
import type { NativeRedis } from '@fibstack/devstack/redis';
import { redisOptionsFrom } from '@fibstack/service-kit/redis';
import { createApp, type AppDeps } from '../app.js';
import { loadConfig } from '../config.js';
import { EventsHub } from '../events/hub.js';

export interface AppUnderTest {
  app: Express;
  pool: pg.Pool;
  queue: Queue<JobData>;
  redisServer: NativeRedis;
  /** A plain client of the test Redis, for publishing and inspecting. */
  redis: Redis;
  databaseUrl: string;
  events: EventsHub;
  count(table: 'submitted_indexes' | 'results'): Promise<number>;
  /** Every job in the queue, whatever its state. */
  jobCount(): Promise<number>;
  close(): Promise<void>;
}

/** Resolves once the connection can take commands (a fail-fast connection rejects them before). */
async function untilReady(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await once(redis, 'ready');
}

/**
 * The real app on a fresh database of the run's Postgres and a redis-server of its own, wired as
 * main.ts wires it: the app is built while the fail-fast Redis connection is still connecting.
 * `env` overrides configuration as the environment would.
 */
export async function startAppUnderTest(env: Record<string, string> = {}): Promise<AppUnderTest> {
  const databaseUrl = await createTestDatabase(inject('postgresAdminUrl'));
  const redisServer = await startTestRedis();
  try {
    return await wire(databaseUrl, redisServer, env);
  } catch (error) {
    // A half-built app must not leave its redis-server running after the test run.
    await redisServer.stop();
    throw error;
  }
}

/**
 * A second API process as another replica behind the same balancer: its own app, hub, pools and
 * connections, on the database and redis-server of `of`. Its close() leaves those running.
 */
export function startReplicaOf(of: AppUnderTest, env: Record<string, string> = {}): Promise<AppUnderTest> {
  return wire(of.databaseUrl, of.redisServer, env, { ownsRedis: false });
}

async function wire(
  databaseUrl: string,
  redisServer: NativeRedis,
  env: Record<string, string>,
  { ownsRedis = true } = {},
): Promise<AppUnderTest> {
  const config = loadConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisServer.url, SSE_HEARTBEAT_MS: '200', ...env });
  const logger = pino({ level: 'silent' });
  const pool = testPool({ connectionString: databaseUrl, connectionTimeoutMillis: 1_000 });
  const commands = new Redis(redisOptionsFrom(config, 'command'));
  commands.on('error', () => undefined);
  const subscriber = new Redis(redisOptionsFrom(config, 'blocking'));
  subscriber.on('error', () => undefined);
  const queue = new Queue<JobData>(QUEUE_NAME, { connection: commands });
  queue.on('error', () => undefined);
  const events = new EventsHub(subscriber, pool, logger, config);
  const deps: AppDeps = { pool, queue, redis: commands, events, config, logger };
  const app = createApp(deps);
  await events.start();
  await untilReady(commands);
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return {
    app,
    pool,
    queue,
    redisServer,
    redis,
    databaseUrl,
    events,
    async count(table) {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      return rows[0]!.n;
    },
    async jobCount() {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
    async close() {
      events.close();
      await queue.close().catch(() => undefined);
      commands.disconnect();
      redis.disconnect();
      await closeTestPool(pool);
      if (ownsRedis) await redisServer.stop();
    },
  };
}
