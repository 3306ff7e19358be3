import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

const ORIGIN = 'https://app.example.test';
let withCors: AppUnderTest;
let sameOrigin: AppUnderTest;

beforeAll(async () => {
  [withCors, sameOrigin] = await Promise.all([startAppUnderTest({ CORS_ORIGIN: ORIGIN }), startAppUnderTest()]);
});
afterAll(() => Promise.all([withCors.close(), sameOrigin.close()]));

describe('CORS', () => {
  it('sends no CORS headers unless CORS_ORIGIN is set', async () => {
    const response = await request(sameOrigin.app).get('/api/values').set('Origin', ORIGIN);
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await request(sameOrigin.app).options('/api/values').set('Origin', ORIGIN);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows the configured origin, and answers its preflight without touching the store', async () => {
    const response = await request(withCors.app).get('/api/values').set('Origin', ORIGIN);
    expect(response.status).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(ORIGIN);
    expect(response.headers.vary).toMatch(/\bOrigin\b/);
    expect(response.headers['access-control-expose-headers']).toBe('X-Request-Id');
    const preflight = await request(withCors.app)
      .options('/api/values')
      .set('Origin', ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toMatch(/content-type/i);
    expect(preflight.headers['access-control-max-age']).toBe('600');
    expect(await withCors.count('submitted_indexes')).toBe(0);
  });
});
