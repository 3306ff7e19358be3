import { Queue } from 'bullmq';
import type { Express } from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { inject } from 'vitest';
import { QUEUE_NAME, type JobData } from '@fibstack/contract/jobs';
import { createTestDatabase, startTestRedis } from '@fibstack/devstack/test-database';
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
  count(table: 'submissions' | 'results'): Promise<number>;
  close(): Promise<void>;
}

/**
 * The real app on a fresh database of the run's Postgres and a redis-server of its own, wired as
 * main.ts wires it. `env` overrides configuration as the environment would.
 */
export async function startAppUnderTest(env: Record<string, string> = {}): Promise<AppUnderTest> {
  const databaseUrl = await createTestDatabase(inject('postgresAdminUrl'));
  const redisServer = await startTestRedis();
  const config = loadConfig({ DATABASE_URL: databaseUrl, REDIS_URL: redisServer.url, SSE_HEARTBEAT_MS: '200', ...env });
  const logger = pino({ level: 'silent' });
  const pool = new pg.Pool({ connectionString: databaseUrl, connectionTimeoutMillis: 1_000 });
  const commands = new Redis(redisOptionsFrom(config, 'command'));
  commands.on('error', () => undefined);
  const subscriber = new Redis(redisOptionsFrom(config, 'blocking'));
  subscriber.on('error', () => undefined);
  const queue = new Queue<JobData>(QUEUE_NAME, { connection: commands });
  queue.on('error', () => undefined);
  const events = new EventsHub(subscriber, logger, config.SSE_HEARTBEAT_MS);
  await events.start();
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  await commands.ping();
  const deps: AppDeps = { pool, queue, redis: commands, events, config, logger };
  return {
    app: createApp(deps),
    pool,
    queue,
    redisServer,
    redis,
    async count(table) {
      const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      return rows[0]!.n;
    },
    async close() {
      await events.close();
      await queue.close().catch(() => undefined);
      commands.disconnect();
      redis.disconnect();
      await pool.end();
      await redisServer.stop();
    },
  };
}
