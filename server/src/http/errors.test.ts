import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;

beforeAll(async () => {
  t = await startAppUnderTest();
});
afterAll(() => t.close());

describe('the error handler', () => {
  it('answers every response with security headers and without X-Powered-By', async () => {
    const response = await request(t.app).get('/api/values');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  // Last: it breaks this file's database, as a half-migrated deploy would.
  it('answers an unexpected failure with a bare 500 that leaks no SQL or stack', async () => {
    await t.pool.query('DROP TABLE results');
    for (const call of [
      request(t.app).post('/api/values').send({ index: 5 }),
      request(t.app).get('/api/values'),
      request(t.app).get('/api/values/5'),
    ]) {
      const response = await call;
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ error: { code: 'internal_error', message: 'something went wrong on our side' } });
      expect(response.text).not.toMatch(/results|relation|select|at \w+ \(/i);
    }
    expect((await request(t.app).get('/healthz')).status).toBe(200);
  });
});
