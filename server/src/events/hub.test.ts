import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RESULTS_CHANNEL, TRACE_CONTEXT_KEY } from '@fibstack/contract/jobs';
import { startTestRedis } from '@fibstack/devstack/test-database';
import type { NativeRedis } from '@fibstack/devstack/redis';
import { eventually } from '@fibstack/devstack/testkit';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';
import { openStream, readyOf, storeResult, type SseFrame } from '../testing/event-stream-client.js';
import { listenOnFreePort, type Listening } from '../testing/listening.js';

const ready = (frames: SseFrame[]) => readyOf(frames) !== undefined;
const resultsIn = (frames: SseFrame[]) => frames.filter((frame) => frame.event === 'result');
const hasResults = (count: number) => (frames: SseFrame[]) => resultsIn(frames).length >= count;

describe('GET /api/events', () => {
  let t: AppUnderTest;
  let baseUrl: string;
  let server: Listening;

  beforeAll(async () => {
    t = await startAppUnderTest();
    server = await listenOnFreePort(t.app);
    baseUrl = server.baseUrl;
  });
  afterAll(async () => {
    server?.close();
    await t.close();
  });

  it('starts with the retry hint and a ready event at the latest result, then sends each stored result with its id', async () => {
    const before = await storeResult(t.pool, t.redis, 1);
    const stream = await openStream(baseUrl);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.headers['x-accel-buffering']).toBe('no');
    const opening = await stream.until(ready, 'the ready event');
    expect(stream.text()).toMatch(/^retry: 3000\n\n/);
    // A new stream starts after the latest result: nothing stored before it is sent.
    expect(readyOf(opening)).toEqual({ id: before.id, resumed: false });

    const stored = await storeResult(t.pool, t.redis, 2);
    await stream.until(hasResults(1), 'the result event');
    expect(stream.results()).toEqual([stored]);
    expect(stored.id).toBeGreaterThan(before.id);
    stream.close();
  });

  it('sends what Postgres holds, never what an announcement says: a message only wakes the hub', async () => {
    const stream = await openStream(baseUrl);
    await stream.until(ready, 'the ready event');
    const forged = { index: 999, value: '1', digits: 1, truncated: false, computeMs: 0, computedAt: new Date().toISOString() };
    for (const message of [
      'not json',
      '{"index": "x"}',
      JSON.stringify({ ...forged, value: 'a\n\nevent: evil' }),
      JSON.stringify(forged),
    ]) {
      await t.redis.publish(RESULTS_CHANNEL, message);
    }
    const stored = await storeResult(t.pool, t.redis, 3, { announce: false });
    // The worker's announcement carries its trace context and may say anything else: none of it is sent.
    await t.redis.publish(RESULTS_CHANNEL, JSON.stringify({ ...stored.event, value: '4', [TRACE_CONTEXT_KEY]: { traceparent: 'x' } }));
    await stream.until(hasResults(1), 'the stored result');
    expect(stream.results()).toEqual([stored]);
    expect(stream.frames().filter((frame) => frame.event !== undefined && !['ready', 'result'].includes(frame.event))).toEqual([]);
    stream.close();
  });

  it('sends a long value as the same preview the worker announces', async () => {
    const stream = await openStream(baseUrl);
    await stream.until(ready, 'the ready event');
    const stored = await storeResult(t.pool, t.redis, 4, { value: '7'.repeat(100) });
    await stream.until(hasResults(1), 'the result event');
    expect(stored.event).toMatchObject({ value: `${'7'.repeat(60)}…`, truncated: true, digits: 100 });
    expect(stream.results()).toEqual([stored]);
    stream.close();
  });

  it('sends every result once and in id order when many are stored at once', async () => {
    const stream = await openStream(baseUrl);
    await stream.until(ready, 'the ready event');
    const stored = await Promise.all(Array.from({ length: 60 }, (_, i) => storeResult(t.pool, t.redis, 100 + i)));
    await stream.until(hasResults(60), 'sixty result events');
    const ids = stream.results().map((result) => result.id);
    expect(ids).toEqual(stored.map((result) => result.id).sort((a, b) => a - b));
    expect(new Set(stream.results().map((result) => result.event.index)).size).toBe(60);
    stream.close();
  });

  it('reads nothing from Postgres while no stream is open: an announcement costs only its index', async () => {
    await eventually(() => t.events.size === 0, 5_000, 'every stream of the earlier tests to be gone');
    const heard: number[] = [];
    t.events.onResult((index) => heard.push(index));
    const query = vi.spyOn(t.pool, 'query');
    try {
      for (const index of [200, 201, 202]) await storeResult(t.pool, t.redis, index);
      await eventually(() => heard.length === 3, 5_000, 'the three announcements');
      // The heartbeat (200 ms here) passes too, with nothing to read for.
      await new Promise((resolve) => setTimeout(resolve, 500));
      // The hub's reads are named statements; the test's own INSERTs are not.
      const reads = query.mock.calls.flatMap(([statement]: unknown[]) => (statement as { name?: string }).name ?? []);
      expect(reads).toEqual([]);
      expect(heard).toEqual([200, 201, 202]);
    } finally {
      query.mockRestore();
    }
  });

  it('sends a result whose announcement never came (the publish failed) at the next heartbeat', async () => {
    const stream = await openStream(baseUrl);
    await stream.until(ready, 'the ready event');
    const stored = await storeResult(t.pool, t.redis, 300, { announce: false });
    await stream.until(hasResults(1), 'the unannounced result');
    expect(stream.results()).toEqual([stored]);
    stream.close();
  });

  it('sends heartbeat comments while idle', async () => {
    const stream = await openStream(baseUrl);
    await stream.until((frames) => frames.some((frame) => frame.comment === 'ping'), 'a heartbeat');
    stream.close();
  });

  it('forgets a client once it disconnects', async () => {
    await eventually(() => t.events.size === 0, 5_000, 'the earlier streams to be gone');
    const stream = await openStream(baseUrl);
    await stream.until(ready, 'the ready event');
    expect(t.events.size).toBe(1);
    stream.close();
    await eventually(() => t.events.size === 0, 5_000, 'the stream to be forgotten');
  });

  // Last: shutting the hub down ends this file's streams for good.
  it('ends every stream on shutdown and refuses new ones with a 503 JSON error', async () => {
    const streams = await Promise.all([openStream(baseUrl), openStream(baseUrl)]);
    await Promise.all(streams.map((stream) => stream.until(ready, 'the ready event')));
    t.events.close();
    await Promise.all(streams.map((stream) => stream.ended));

    const refused = await fetch(`${baseUrl}/api/events`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: { code: 'service_unavailable', message: expect.any(String) } });
  });
});

describe('GET /api/events through a Redis restart', () => {
  let t: AppUnderTest;
  let baseUrl: string;
  let server: Listening;
  let restarted: NativeRedis | undefined;

  beforeAll(async () => {
    // No heartbeat within the test: only the subscriber's return can make the hub read.
    t = await startAppUnderTest({ SSE_HEARTBEAT_MS: '300000' });
    server = await listenOnFreePort(t.app);
    baseUrl = server.baseUrl;
  });
  afterAll(async () => {
    server?.close();
    await t.close();
    await restarted?.stop();
  });

  it('sends what was stored while its subscriber was away as soon as the subscriber is back', async () => {
    const stream = await openStream(baseUrl);
    await stream.until(ready, 'the ready event');
    await t.redisServer.stop();
    // Stored while Redis is down: the worker's publish fails, so these are never announced.
    const stored = [await storeResult(t.pool, t.redis, 1, { announce: false }), await storeResult(t.pool, t.redis, 2, { announce: false })];
    restarted = await startTestRedis(t.redisServer);
    await stream.until(hasResults(2), 'the results stored during the outage', 15_000);
    expect(stream.results()).toEqual(stored);
    // And the subscription works again.
    const after = await storeResult(t.pool, t.redis, 3);
    await stream.until(hasResults(3), 'a result announced after the restart', 10_000);
    expect(stream.results()).toEqual([...stored, after]);
    stream.close();
  });
});
