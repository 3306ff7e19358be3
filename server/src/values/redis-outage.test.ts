import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

/** Postgres is the source of truth: with Redis gone, a submission is still stored and answered. */
describe('when Redis is unreachable', () => {
  let t: AppUnderTest;

  beforeAll(async () => {
    t = await startAppUnderTest();
    await t.redisServer.stop();
  });
  afterAll(async () => {
    await t.close();
  });

  it('stores a submission and answers 202 pending; the reconciler will queue it', async () => {
    const response = await request(t.app).post('/api/values').set('Content-Type', 'application/json').send('{"index": 21}');
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ index: 21, status: 'pending', submissionId: '1' });
    expect(await t.count('submitted_indexes')).toBe(1);
    expect((await request(t.app).get('/api/values/21')).body).toEqual({ index: 21, status: 'pending' });
  });
});
