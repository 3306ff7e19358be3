import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NativeRedis } from '@fibstack/devstack/redis';
import { startTestRedis } from '@fibstack/devstack/test-database';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;

beforeAll(async () => {
  t = await startAppUnderTest({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PER_MINUTE: '5', TRUST_PROXY: 'loopback' });
});
let restarted: NativeRedis | undefined;
afterAll(async () => {
  await t.close();
  await restarted?.stop();
});

const submitFrom = (ip: string, index: number) => request(t.app).post('/api/values').set('X-Forwarded-For', ip).send({ index });

describe('rate limiting', () => {
  it('answers a burst from one client with 429 and Retry-After, while other clients go on', async () => {
    const statuses: number[] = [];
    let limited: request.Response | undefined;
    for (let i = 0; i < 8; i++) {
      const response = await submitFrom('203.0.113.7', i);
      statuses.push(response.status);
      if (response.status === 429) limited = response;
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
    expect(limited?.body.error.code).toBe('rate_limited');
    expect(Number(limited?.headers['retry-after'])).toBeGreaterThan(0);
    expect((await submitFrom('198.51.100.9', 99)).status).toBe(202);
    // Health checks are never limited.
    expect((await request(t.app).get('/healthz').set('X-Forwarded-For', '203.0.113.7')).status).toBe(200);
  });

  it('stores nothing for a limited request', async () => {
    const before = await t.count('submitted_indexes');
    expect((await submitFrom('203.0.113.7', 50)).status).toBe(429);
    expect(await t.count('submitted_indexes')).toBe(before);
  });

  // Last: it stops and restarts this file's Redis.
  it('keeps limiting each client in this process while Redis is down, and in Redis once it is back', async () => {
    await t.redisServer.stop();
    const during: number[] = [];
    for (let i = 0; i < 7; i++) during.push((await submitFrom('192.0.2.1', 100 + i)).status);
    // The submissions are stored (Postgres is up); only the counting moved.
    expect(during).toEqual([202, 202, 202, 202, 202, 429, 429]);
    expect((await submitFrom('192.0.2.2', 108)).status).toBe(202);

    restarted = await startTestRedis(t.redisServer);
    await expect.poll(async () => (await request(t.app).get('/readyz')).body.checks.redis, { timeout: 10_000 }).toBe('up');
    const after: number[] = [];
    for (let i = 0; i < 7; i++) after.push((await submitFrom('192.0.2.1', 200 + i)).status);
    expect(after).toEqual([202, 202, 202, 202, 202, 429, 429]);
  });
});

// The default: `npm start` is reached directly and `npm run dev` through Vite's proxy, which passes a
// client's X-Forwarded-For on untouched (its `xfwd` is off), both from loopback.
describe('rate limiting with the default TRUST_PROXY (no trusted proxy)', () => {
  let direct: AppUnderTest;
  beforeAll(async () => {
    direct = await startAppUnderTest({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => direct.close());

  it('ignores X-Forwarded-For, so a client cannot dodge its limit by forging one', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await request(direct.app).post('/api/values').set('X-Forwarded-For', `198.51.100.${i}`).send({ index: i })).status);
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
  });
});
