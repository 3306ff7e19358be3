import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { pino } from 'pino';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '@fibstack/contract/jobs';
import { freePort } from '@fibstack/devstack/ports';
import { closeTestPool, startTestRedis, testPool } from '@fibstack/devstack/test-database';
import type { NativeRedis } from '@fibstack/devstack/redis';
import { createApp } from '../app.js';
import { loadConfig } from '../config.js';
import { EventsHub } from '../events/hub.js';

describe('when Postgres is unreachable', () => {
  let redisServer: NativeRedis;
  let pool: pg.Pool;
  let redis: Redis;
  let queue: Queue;
  let events: EventsHub;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    redisServer = await startTestRedis();
    const closedPort = await freePort();
    pool = testPool({ host: '127.0.0.1', port: closedPort, connectionTimeoutMillis: 500 });
    redis = new Redis(redisServer.url);
    const logger = pino({ level: 'silent' });
    queue = new Queue(QUEUE_NAME, { connection: redis });
    events = new EventsHub(new Redis(redisServer.url), pool, logger, loadConfig({ SSE_HEARTBEAT_MS: '1000' }));
    app = createApp({ pool, queue, redis, events, config: loadConfig({}), logger });
  });
  afterAll(async () => {
    events.close();
    await queue.close();
    redis.disconnect();
    await closeTestPool(pool);
    await redisServer.stop();
  });

  it('answers writes and reads with a 503 JSON error, and queues nothing', async () => {
    const response = await request(app).post('/api/values').send({ index: 5 });
    expect(response.status).toBe(503);
    expect(response.body.error).toEqual({ code: 'service_unavailable', message: 'the database is unavailable, try again shortly' });
    for (const call of [request(app).get('/api/values'), request(app).get('/api/values/5')]) {
      const read = await call;
      expect(read.status).toBe(503);
      expect(read.body.error.code).toBe('service_unavailable');
    }
    expect(await queue.count()).toBe(0);
  });

  it('refuses an event stream with a 503 JSON error: the stream cannot learn where the results stand', async () => {
    const refused = await request(app).get('/api/events');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toEqual({ code: 'service_unavailable', message: 'the database is unavailable, try again shortly' });
    expect(events.size).toBe(0);
  });

  it('reports not ready, but alive', async () => {
    const ready = await request(app).get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.postgres).toBe('down');
    expect((await request(app).get('/healthz')).status).toBe(200);
  });
});
