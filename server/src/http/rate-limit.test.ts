import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;

beforeAll(async () => {
  t = await startAppUnderTest({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PER_MINUTE: '5', TRUST_PROXY: 'loopback' });
});
afterAll(() => t.close());

const submitFrom = (ip: string, index: number) =>
  request(t.app).post('/api/values').set('X-Forwarded-For', ip).send({ index });

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
    const before = await t.count('submissions');
    expect((await submitFrom('203.0.113.7', 50)).status).toBe(429);
    expect(await t.count('submissions')).toBe(before);
  });
});
