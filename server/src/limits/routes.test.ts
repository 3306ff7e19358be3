import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { limitsSchema } from '@fibstack/contract/limits';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;

beforeAll(async () => {
  t = await startAppUnderTest({ MAX_INDEX: '500' });
});
afterAll(() => t.close());

describe('GET /api/limits', () => {
  it('answers the configured MAX_INDEX in the contract shape, revalidated on each load', async () => {
    const response = await request(t.app).get('/api/limits');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ maxIndex: 500 });
    expect(limitsSchema.safeParse(response.body).success).toBe(true);
    expect(response.headers['cache-control']).toBe('no-cache');
    const again = await request(t.app)
      .get('/api/limits')
      .set('If-None-Match', response.headers.etag as string);
    expect(again.status).toBe(304);
  });

  it('announces the limit POST /api/values enforces', async () => {
    const { maxIndex } = (await request(t.app).get('/api/limits')).body as { maxIndex: number };
    expect((await request(t.app).post('/api/values').send({ index: maxIndex })).status).toBe(202);
    const over = await request(t.app)
      .post('/api/values')
      .send({ index: maxIndex + 1 });
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe('index_too_large');
  });
});
