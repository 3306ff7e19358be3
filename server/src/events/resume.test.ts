import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, startReplicaOf, type AppUnderTest } from '../testing/app-under-test.js';
import { listenOnFreePort, type Listening } from '../testing/listening.js';
import { openStream, readyOf, storeResult, type SseFrame, type StreamUnderTest } from '../testing/event-stream-client.js';

/**
 * Resuming a stream: whatever a browser missed between two connections (its stream's lifetime ended, a
 * replica went away, the network broke) is sent from Postgres after the id it last saw, on any replica.
 */
const servers: Listening[] = [];
const apps: AppUnderTest[] = [];

async function listen(t: AppUnderTest): Promise<string> {
  const listening = await listenOnFreePort(t.app);
  servers.push(listening);
  return listening.baseUrl;
}

const ready = (frames: SseFrame[]) => readyOf(frames) !== undefined;
const hasResults = (count: number) => (frames: SseFrame[]) => frames.filter((frame) => frame.event === 'result').length >= count;
const opened: StreamUnderTest[] = [];
async function open(baseUrl: string, options: Parameters<typeof openStream>[1] = {}): Promise<StreamUnderTest> {
  const stream = await openStream(baseUrl, options);
  opened.push(stream);
  if (stream.status === 200) await stream.until(ready, 'the ready event');
  return stream;
}

let t: AppUnderTest;
let baseUrl: string;
let index = 0;
const store = (options?: Parameters<typeof storeResult>[3]) => storeResult(t.pool, t.redis, ++index, options);

/** A replica whose streams last a second (0.8 to 1 s). */
let shortLived: string;

beforeAll(async () => {
  t = await startAppUnderTest();
  apps.push(t);
  baseUrl = await listen(t);
  const replica = await startReplicaOf(t, { SSE_STREAM_LIFETIME_MS: '1000' });
  apps.push(replica);
  shortLived = await listen(replica);
});
afterAll(async () => {
  for (const stream of opened) stream.close();
  for (const server of servers) server.close();
  for (const app of apps.reverse()) await app.close();
});

describe('resuming GET /api/events', () => {
  it('after Last-Event-ID: every result after it, once and in order, then the live ones', async () => {
    const [first, second, third] = [await store(), await store({ announce: false }), await store()];
    const stream = await open(baseUrl, { headers: { 'Last-Event-ID': String(first.id) } });
    expect(readyOf(stream.frames())).toEqual({ id: first.id, resumed: true });
    const live = await store();
    await stream.until(hasResults(3), 'the missed results and the live one');
    expect(stream.results()).toEqual([second, third, live]);
  });

  it('from the lastEventId query parameter, which a new EventSource uses; the header, newer, wins over it', async () => {
    const [first, second, third] = [await store(), await store(), await store()];
    const fromQuery = await open(baseUrl, { path: `/api/events?lastEventId=${first.id}` });
    expect(readyOf(fromQuery.frames())).toEqual({ id: first.id, resumed: true });
    await fromQuery.until(hasResults(2), 'the missed results');
    expect(fromQuery.results()).toEqual([second, third]);

    const both = await open(baseUrl, { path: `/api/events?lastEventId=${first.id}`, headers: { 'Last-Event-ID': String(second.id) } });
    expect(readyOf(both.frames())).toEqual({ id: second.id, resumed: true });
    await both.until(hasResults(1), 'the missed result');
    expect(both.results()).toEqual([third]);
  });

  it('tells a stream too far behind to refetch, and starts it at the latest result', async () => {
    const first = await store();
    await t.pool.query(
      `INSERT INTO results (index, value, digits, compute_ms) SELECT i, '1', 1, 0 FROM generate_series(100000, 101000) AS i`,
    );
    const latest = Number((await t.pool.query<{ id: string }>('SELECT max(id) AS id FROM results')).rows[0]!.id);
    const stream = await open(baseUrl, { headers: { 'Last-Event-ID': String(first.id) } });
    expect(readyOf(stream.frames())).toEqual({ id: latest, resumed: false });
    const live = await store();
    await stream.until(hasResults(1), 'the live result');
    expect(stream.results()).toEqual([live]);
  });

  it('starts a stream resuming from an id this database never gave as a new one, which refetches', async () => {
    const latest = await store();
    const stream = await open(baseUrl, { headers: { 'Last-Event-ID': String(latest.id + 1_000_000) } });
    expect(readyOf(stream.frames())).toEqual({ id: latest.id, resumed: false });
  });

  it.each([
    ['a word', { 'Last-Event-ID': 'abc' }, '/api/events'],
    ['a negative id', { 'Last-Event-ID': '-1' }, '/api/events'],
    ['a leading zero', { 'Last-Event-ID': '01' }, '/api/events'],
    ['a fraction', {}, '/api/events?lastEventId=1.5'],
    ['an id past 2^53', { 'Last-Event-ID': '9007199254740993' }, '/api/events'],
    ['a repeated parameter', {}, '/api/events?lastEventId=1&lastEventId=2'],
    ['a bad header beside a good parameter', { 'Last-Event-ID': 'x' }, '/api/events?lastEventId=1'],
  ])('refuses %s with a 400 JSON error, holding no stream', async (_what, headers, path) => {
    const held = t.events.size;
    const response = await fetch(`${baseUrl}${path}`, { headers });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 'invalid_last_event_id', message: expect.stringMatching(/^Last-Event-ID must be/) },
    });
    expect(t.events.size).toBe(held);
  });

  it('ends a stream after its lifetime, and the browser resuming from its last id misses nothing', async () => {
    const stream = await open(shortLived);
    const before = await store();
    await stream.until(hasResults(1), 'a result before the end');
    await Promise.race([
      stream.ended,
      new Promise((_, fail) => setTimeout(() => fail(new Error('the stream outlived its lifetime')), 5_000)),
    ]);
    // Stored while the browser waits its retry delay before reconnecting.
    const gap = [await store(), await store({ announce: false })];
    const resumed = await open(baseUrl, { headers: { 'Last-Event-ID': String(stream.results().at(-1)!.id) } });
    expect(readyOf(resumed.frames())).toEqual({ id: before.id, resumed: true });
    await resumed.until(hasResults(2), 'the results stored between the two streams');
    expect(resumed.results()).toEqual(gap);
  });

  it('resumes a stream that ended before any result from the id of its ready event', async () => {
    const stream = await open(shortLived);
    const start = readyOf(stream.frames())!.id;
    await Promise.race([
      stream.ended,
      new Promise((_, fail) => setTimeout(() => fail(new Error('the stream outlived its lifetime')), 5_000)),
    ]);
    const gap = await store();
    const resumed = await open(baseUrl, { headers: { 'Last-Event-ID': String(start) } });
    await resumed.until(hasResults(1), 'the result stored between the two streams');
    expect(resumed.results()).toEqual([gap]);
  });
});

describe('two API replicas on one database and Redis', () => {
  it('send the same results with the same ids, and one resumes where the other left off', async () => {
    // The second replica has no heartbeat within the test: it reads only when a result is announced or a stream joins.
    const replica = await startReplicaOf(t, { SSE_HEARTBEAT_MS: '300000', SSE_STREAM_LIFETIME_MS: '600000' });
    apps.push(replica);
    const replicaUrl = await listen(replica);
    const [onFirst, onSecond] = [await open(baseUrl), await open(replicaUrl)];
    const both = await store();
    await onFirst.until(hasResults(1), 'the result on the first replica');
    await onSecond.until(hasResults(1), 'the result on the second replica');
    expect(onFirst.results()).toEqual([both]);
    expect(onSecond.results()).toEqual([both]);

    // Never announced: the first replica reads it at its heartbeat, the second does not know of it yet.
    const unannounced = await store({ announce: false });
    await onFirst.until(hasResults(2), 'the unannounced result on the first replica');
    // A browser that saw it on the first replica reconnects to the second, which is behind it.
    const moved = await open(replicaUrl, { headers: { 'Last-Event-ID': String(unannounced.id) } });
    expect(readyOf(moved.frames())).toEqual({ id: unannounced.id, resumed: true });
    const next = await store();
    await moved.until(hasResults(1), 'the next result on the second replica');
    await onSecond.until(hasResults(3), 'both results on the second replica');
    // Sent once: the result it had already seen elsewhere is not sent again.
    expect(moved.results()).toEqual([next]);
    expect(onSecond.results()).toEqual([both, unannounced, next]);
  });
});
