import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jobIdFor } from '@fibstack/contract/jobs';
import { PREVIEW_DIGITS, valueListSchema } from '@fibstack/contract/values';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';
import { ValuesStore } from './store.js';

let t: AppUnderTest;

beforeAll(async () => {
  t = await startAppUnderTest({ MAX_INDEX: '1000' });
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.pool.query('TRUNCATE submitted_indexes, results RESTART IDENTITY');
  await t.redis.flushall();
});

const post = (body: string, type = 'application/json') => request(t.app).post('/api/values').set('Content-Type', type).send(body);

async function storeResult(index: number, value: string) {
  await t.pool.query('INSERT INTO results (index, value, digits, compute_ms) VALUES ($1, $2, $3, 1.5)', [index, value, value.length]);
}

describe('POST /api/values', () => {
  it('stores the submission, queues one job per index and answers 202 pending', async () => {
    const first = await post('{"index": 10}');
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ index: 10, status: 'pending', submissionId: '1' });
    expect(first.headers['x-request-id']).toMatch(/[0-9a-f-]{36}/);

    const job = await t.queue.getJob(jobIdFor(10));
    expect(job?.data).toEqual({ index: 10, requestId: first.headers['x-request-id'] });
    expect(job?.opts).toMatchObject({ attempts: 5, backoff: { type: 'exponential' }, removeOnComplete: true });

    const repeat = await post('{"index": 10}');
    expect(repeat.status).toBe(202);
    expect(repeat.body).toEqual({ index: 10, status: 'pending', submissionId: '2' });
    // A repeat adds no row: the index's row counts it.
    expect(await t.count('submitted_indexes')).toBe(1);
    expect((await t.pool.query('SELECT submissions::int AS n FROM submitted_indexes WHERE index = 10')).rows).toEqual([{ n: 2 }]);
    expect(await t.jobCount()).toBe(1);
  });

  it('keeps a safe X-Request-Id from the caller and carries it into the job', async () => {
    const response = await post('{"index": 11}').set('X-Request-Id', 'edge-abc.123');
    expect(response.headers['x-request-id']).toBe('edge-abc.123');
    expect((await t.queue.getJob(jobIdFor(11)))?.data.requestId).toBe('edge-abc.123');
  });

  it.each([['a space'], ['x'.repeat(65)], ['<script>'], ['a\u00e9']])('replaces an unsafe X-Request-Id (%s)', async (id) => {
    const response = await post('{"index": 12}').set('X-Request-Id', encodeURI(id));
    expect(response.status).toBe(202);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('answers 200 with the value when it is already computed, and queues nothing', async () => {
    await storeResult(10, '55');
    const response = await post('{"index": 10}');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ index: 10, status: 'done', submissionId: '1', value: '55', digits: 2, truncated: false });
    expect(await t.count('submitted_indexes')).toBe(1);
    expect(await t.jobCount()).toBe(0);
  });

  it('answers each of many simultaneous submissions as if it came alone (they share statements)', async () => {
    await storeResult(5, '5');
    const indexes = Array.from({ length: 60 }, (_, i) => i % 30);
    const answers = await Promise.all(indexes.map((index) => post(JSON.stringify({ index }))));
    const submissionId = expect.stringMatching(/^\d+$/);
    answers.forEach(({ status, body }, i) => {
      const index = indexes[i]!;
      if (index === 5)
        expect({ status, body }).toEqual({
          status: 200,
          body: { index, status: 'done', submissionId, value: '5', digits: 1, truncated: false },
        });
      else expect({ status, body }).toEqual({ status: 202, body: { index, status: 'pending', submissionId } });
    });
    const { rows } = await t.pool.query('SELECT count(*)::int AS indexes, sum(submissions)::int AS submissions FROM submitted_indexes');
    expect(rows).toEqual([{ indexes: 30, submissions: 60 }]);
    expect(await t.jobCount()).toBe(29);
  });

  it('flags a new index for the reconciler, and a repeat only while its value is missing', async () => {
    const flagged = async () =>
      (await t.pool.query<{ index: number }>('SELECT index FROM submitted_indexes WHERE pending ORDER BY index')).rows.map(
        (row) => row.index,
      );
    await storeResult(15, '610');
    await post('{"index": 15}');
    await post('{"index": 16}');
    // New rows are flagged whatever is stored; the reconciler clears the flag once it finds the value.
    expect(await flagged()).toEqual([15, 16]);
    await t.pool.query('UPDATE submitted_indexes SET pending = false');
    await post('{"index": 15}');
    await post('{"index": 16}');
    expect(await flagged()).toEqual([16]);
  });

  it('accepts the bounds 0 and MAX_INDEX, and stores -0 as 0', async () => {
    expect((await post('{"index": 0}')).status).toBe(202);
    expect((await post('{"index": 1000}')).status).toBe(202);
    expect((await post('{"index": -0}')).body).toEqual({ index: 0, status: 'pending', submissionId: expect.any(String) });
    expect((await t.pool.query('SELECT index, submissions::int FROM submitted_indexes WHERE index = 0')).rows).toEqual([
      { index: 0, submissions: 2 },
    ]);
  });

  const rejected: Array<[string, string, number, string, string?]> = [
    ['malformed JSON', '{"index": ', 400, 'invalid_json'],
    ['a form body', 'index=10', 415, 'unsupported_media_type', 'application/x-www-form-urlencoded'],
    ['plain text', '10', 415, 'unsupported_media_type', 'text/plain'],
    ['an empty object', '{}', 422, 'index_required'],
    ['a negative index', '{"index": -3}', 422, 'index_negative'],
    ['a fractional index', '{"index": 2.5}', 422, 'index_not_integer'],
    ['a numeric string', '{"index": "10"}', 422, 'index_not_number'],
    ['a word', '{"index": "abc"}', 422, 'index_not_number'],
    ['a boolean', '{"index": true}', 422, 'index_not_number'],
    ['an array index', '{"index": [1]}', 422, 'index_not_number'],
    ['a null index', '{"index": null}', 422, 'index_not_number'],
    ['an index over MAX_INDEX', '{"index": 1001}', 422, 'index_too_large'],
    ['1e309', '{"index": 1e309}', 422, 'index_not_integer'],
    ['2^53+1', '{"index": 9007199254740993}', 422, 'index_too_large'],
    ['a top-level array', '[10]', 422, 'body_not_object'],
    ['a top-level null', 'null', 422, 'body_not_object'],
    ['a top-level number', '10', 422, 'body_not_object'],
    ['deeply nested JSON', `${'['.repeat(8000)}${']'.repeat(8000)}`, 422, 'body_not_object'],
    ['a deeply nested index', `{"index": ${'['.repeat(7000)}${']'.repeat(7000)}}`, 422, 'index_not_number'],
    ['a latin1 charset', '{"index": 10}', 415, 'unsupported_media_type', 'application/json; charset=latin1'],
    ['a body over 16 KB', JSON.stringify({ index: 1, pad: 'x'.repeat(17_000) }), 413, 'payload_too_large'],
  ];

  it.each(rejected)('rejects %s with %i %s and stores nothing', async (_name, body, status, code, type) => {
    const response = await post(body, type);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.message).toEqual(expect.any(String));
    expect(await t.count('submitted_indexes')).toBe(0);
    expect(await t.jobCount()).toBe(0);
  });

  it('rejects a body without a Content-Type with 415, storing nothing', async () => {
    const response = await request(t.app).post('/api/values');
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('unsupported_media_type');
    expect(await t.count('submitted_indexes')).toBe(0);
  });

  it.each([['gzip'], ['deflate'], ['br']])('rejects an undecodable %s body with 400 invalid_json', async (encoding) => {
    const response = await post('{"index": 10}').set('Content-Encoding', encoding);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_json');
    expect(await t.count('submitted_indexes')).toBe(0);
    expect(await t.jobCount()).toBe(0);
  });

  it('accepts a gzip-compressed body', async () => {
    const response = await request(t.app)
      .post('/api/values')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      // Send the bytes as they are (supertest would JSON-encode a Buffer); its types claim a string.
      .serialize((body: Buffer) => body as unknown as string)
      .send(gzipSync('{"index": 14}'));
    expect(response.status).toBe(202);
    expect(await t.count('submitted_indexes')).toBe(1);
  });

  it.each([
    ['a top-level array', '[10]', 'send a JSON object such as {"index": 10}'],
    ['malformed JSON', '{"index":', 'request body is not valid JSON'],
    ['a body over 16 KB', JSON.stringify({ index: 1, pad: 'x'.repeat(17_000) }), 'request body must be at most 16KB'],
  ])('explains %s in its message', async (_what, body, message) => {
    expect((await post(body)).body.error.message).toBe(message);
  });

  it('explains a missing Content-Type in its message', async () => {
    const response = await request(t.app).post('/api/values');
    expect(response.body.error.message).toBe('send the body as JSON with Content-Type: application/json');
  });

  it('names the broken rule in the message', async () => {
    const response = await post('{"index": 1001}');
    expect(response.body.error.message).toBe('index must be at most 1000, got 1001');
  });
});

describe('GET /api/values', () => {
  it('pages through every submitted index, most recently submitted first, with a keyset cursor', async () => {
    for (let index = 0; index < 45; index++) await post(JSON.stringify({ index }));
    const seen: Array<{ lastSubmissionId: string; index: number }> = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const response: request.Response = await request(t.app)
        .get('/api/values')
        .query(cursor ? { cursor } : {});
      expect(response.status).toBe(200);
      expect(valueListSchema.safeParse(response.body).success).toBe(true);
      seen.push(...response.body.items);
      pageSizes.push(response.body.items.length);
      cursor = response.body.nextCursor;
    } while (cursor);
    expect(pageSizes).toEqual([20, 20, 5]);
    // A list changes with every submission: no cache may keep it.
    expect((await request(t.app).get('/api/values')).headers['cache-control']).toBe('no-store');
    expect(new Set(seen.map((item) => item.lastSubmissionId)).size).toBe(45);
    expect(seen.map((item) => item.index)).toEqual([...Array(45).keys()].reverse());
    const ids = seen.map((item) => BigInt(item.lastSubmissionId));
    expect(ids.every((id, i) => i === 0 || id < ids[i - 1]!)).toBe(true);
  });

  it('lists a repeated index once, with its count and first and last times, moved to the top by its latest submission', async () => {
    await post('{"index": 3}');
    await post('{"index": 4}');
    await post('{"index": 3}');
    await post('{"index": 5}');
    const again = await post('{"index": 3}');
    const { body } = await request(t.app).get('/api/values');
    expect(valueListSchema.parse(body).items.map(({ index, submissions }) => [index, submissions])).toEqual([
      [3, 3],
      [5, 1],
      [4, 1],
    ]);
    const [three] = body.items;
    expect(three.lastSubmissionId).toBe(again.body.submissionId);
    expect(Date.parse(three.firstSubmittedAt)).toBeLessThan(Date.parse(three.lastSubmittedAt));
    expect(body.items[1].firstSubmittedAt).toBe(body.items[1].lastSubmittedAt);
  });

  it('gives the submissions of one statement ids in the order their indexes first arrived', async () => {
    // Submitted in one turn of the event loop: one batch, one statement (see ValuesStore).
    const store = new ValuesStore(t.pool);
    const answers = await Promise.all([9, 2, 9, 7].map((index) => store.submit(index)));
    const ids = answers.map(({ submissionId }) => Number(submissionId));
    expect(ids[0]).toBe(ids[2]);
    expect(ids[0]).toBeLessThan(ids[1]!);
    expect(ids[1]).toBeLessThan(ids[3]!);
    const { body } = await request(t.app).get('/api/values');
    expect(body.items.map(({ index, submissions }: { index: number; submissions: number }) => [index, submissions])).toEqual([
      [7, 1],
      [2, 1],
      [9, 2],
    ]);
  });

  it('shows pending and done items, with long values shortened', async () => {
    const long = '1'.repeat(PREVIEW_DIGITS + 40);
    await storeResult(7, '13');
    await storeResult(500, long);
    await post('{"index": 7}');
    await post('{"index": 500}');
    await post('{"index": 8}');
    const { body } = await request(t.app).get('/api/values?limit=10');
    expect(body.items.map((item: { index: number; status: string }) => [item.index, item.status])).toEqual([
      [8, 'pending'],
      [500, 'done'],
      [7, 'done'],
    ]);
    expect(body.items[1]).toMatchObject({ value: `${'1'.repeat(PREVIEW_DIGITS)}…`, digits: PREVIEW_DIGITS + 40, truncated: true });
    expect(body.items[2]).toMatchObject({ value: '13', digits: 2, truncated: false });
    expect(body.nextCursor).toBeNull();
  });

  it('accepts the page-size bounds 1 and 100, and gives no cursor for a page that holds the rest exactly', async () => {
    for (let index = 0; index < 3; index++) await post(JSON.stringify({ index }));
    const one = await request(t.app).get('/api/values?limit=1');
    expect(one.status).toBe(200);
    expect(one.body.items).toHaveLength(1);
    expect(one.body.nextCursor).toEqual(expect.any(String));
    const exact = await request(t.app).get('/api/values?limit=3');
    expect(exact.body.items).toHaveLength(3);
    expect(exact.body.nextCursor).toBeNull();
    expect((await request(t.app).get('/api/values?limit=100')).status).toBe(200);
  });

  it('explains a bad limit and a bad cursor in the message', async () => {
    expect((await request(t.app).get('/api/values?limit=0')).body.error.message).toBe('limit must be a whole number from 1 to 100');
    expect((await request(t.app).get('/api/values?cursor=abc')).body.error.message).toBe(
      'cursor must be the nextCursor of a previous page',
    );
  });

  it.each([
    ['limit=0'],
    ['limit=101'],
    ['limit=abc'],
    ['limit=x10'],
    ['limit=10x'],
    ['limit=1000'],
    ['cursor=abc'],
    ['cursor=-1'],
    ['cursor=1%20OR%201=1'],
  ])('rejects %s with 400 invalid_query', async (query) => {
    const response = await request(t.app).get(`/api/values?${query}`);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('invalid_query');
  });
});

describe('GET /api/values/:index', () => {
  it('serves the whole value once computed', async () => {
    const long = '9'.repeat(5_000);
    await storeResult(900, long);
    await post('{"index": 900}');
    const { status, body } = await request(t.app).get('/api/values/900');
    expect(status).toBe(200);
    expect(body).toMatchObject({ index: 900, status: 'done', value: long, digits: 5_000, computeMs: 1.5 });
    expect(new Date(body.computedAt).getTime()).not.toBeNaN();
  });

  it('lets caches keep a computed value for good, and no cache keep a pending one', async () => {
    await storeResult(901, '42');
    await post('{"index": 901}');
    await post('{"index": 902}');
    const done = await request(t.app).get('/api/values/901');
    expect(done.body.status).toBe('done');
    expect(done.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const pending = await request(t.app).get('/api/values/902');
    expect(pending.body.status).toBe('pending');
    expect(pending.headers['cache-control']).toBe('no-store');
  });

  it('says in the message why a path has no resource', async () => {
    expect((await request(t.app).get('/api/values/%E0%A4%A')).body.error.message).toBe('the path is not validly encoded');
    expect((await request(t.app).get('/api/nope')).body.error.message).toMatch(/^no route for GET \/(api\/)?nope$/);
  });

  it('says in the message why an index has no value', async () => {
    expect((await request(t.app).get('/api/values/13')).body.error.message).toBe('index 13 has not been submitted');
    expect((await request(t.app).get('/api/values/abc')).body.error.message).toBe('no value for index "abc"');
  });

  it('says pending for a submitted index without a value', async () => {
    await post('{"index": 12}');
    expect((await request(t.app).get('/api/values/12')).body).toEqual({ index: 12, status: 'pending' });
  });

  it.each([['13'], ['abc'], ['-1'], ['1.5'], ['..%2F..%2Fetc%2Fpasswd'], ['99999999999999999999'], ['%E0%A4%A'], ['%00']])(
    'answers 404 JSON for %s',
    async (param) => {
      const response = await request(t.app).get(`/api/values/${param}`);
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    },
  );
});

describe('unknown routes', () => {
  it.each([['/api/nope'], ['/nope'], ['/api/values/1/extra']])('answer 404 JSON for %s', async (path) => {
    const response = await request(t.app).get(path);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});
