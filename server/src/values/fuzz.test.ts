import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;

beforeAll(async () => {
  t = await startAppUnderTest({ MAX_INDEX: '100000' });
});
afterAll(() => t.close());

const contentTypes = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', ''];

/** Bodies a careless or hostile client might send: any JSON, JSON-ish text, control characters. */
const bodies = fc.oneof(
  fc.json(),
  fc.jsonValue().map((index) => JSON.stringify({ index })),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(
    '{"index": 1e309}',
    '{"index": -0}',
    '{"index": 9007199254740993}',
    '{"index": 1, "index": -1}',
    '{"index": "1; DROP TABLE submissions"}',
    '{"__proto__": {"index": 5}}',
    '{"index": "\\u0000"}',
    '{"index": 10}\u0000',
  ),
);

describe('POST /api/values under fuzzing', () => {
  it('always answers 2xx or a 4xx JSON error, and stores only valid rows', async () => {
    await fc.assert(
      fc.asyncProperty(bodies, fc.constantFrom(...contentTypes), async (body, type) => {
        const call = request(t.app).post('/api/values');
        const response = await (type ? call.set('Content-Type', type) : call).send(body);
        expect(response.status).toBeLessThan(500);
        if (response.status >= 400) {
          expect(response.body.error).toEqual({ code: expect.any(String), message: expect.any(String) });
        }
      }),
      { numRuns: 400 },
    );
    const { rows } = await t.pool.query<{ bad: number }>(
      'SELECT count(*)::int AS bad FROM submitted_indexes WHERE index < 0 OR index > 100000',
    );
    expect(rows[0]!.bad).toBe(0);
    expect((await request(t.app).get('/healthz')).status).toBe(200);
  });
});
