import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '@fibstack/devstack/testkit';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';
import { listenOnFreePort, type Listening } from '../testing/listening.js';
import { openStream, readyOf, type StreamUnderTest } from '../testing/event-stream-client.js';

/**
 * Open event streams are capped per client address and per process, so one client cannot hold every
 * connection a process (or the edge in front of it) has. The app trusts one proxy hop, as behind the edge
 * in compose and k8s, so the X-Forwarded-For the test sends names the client.
 */
let t: AppUnderTest;
let baseUrl: string;
let listening: Listening;
const opened: StreamUnderTest[] = [];
/** The streams that were let in, by client address. */
const held = new Map<string, StreamUnderTest[]>();

async function streamFrom(address: string): Promise<StreamUnderTest> {
  const stream = await openStream(baseUrl, { headers: { 'X-Forwarded-For': address } });
  opened.push(stream);
  if (stream.status === 200) held.set(address, [...(held.get(address) ?? []), stream]);
  if (stream.status === 200) await stream.until((frames) => readyOf(frames) !== undefined, 'the ready event');
  else await stream.ended;
  return stream;
}

beforeAll(async () => {
  t = await startAppUnderTest({ SSE_MAX_STREAMS_PER_CLIENT: '2', SSE_MAX_STREAMS: '3', TRUST_PROXY: '1' });
  listening = await listenOnFreePort(t.app);
  baseUrl = listening.baseUrl;
});
afterAll(async () => {
  for (const stream of opened) stream.close();
  listening?.close();
  await t.close();
});

describe('event stream caps', () => {
  it('refuses a client its next stream with a 429 JSON error and Retry-After, while others still get theirs', async () => {
    const mine = [await streamFrom('203.0.113.1'), await streamFrom('203.0.113.1')];
    expect(mine.map((stream) => stream.status)).toEqual([200, 200]);
    const refused = await streamFrom('203.0.113.1');
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('10');
    expect(JSON.parse(refused.text())).toEqual({
      error: { code: 'too_many_streams', message: 'at most 2 event streams per client at once; try again shortly' },
    });
    expect(t.events.size).toBe(2);

    expect((await streamFrom('203.0.113.2')).status).toBe(200);
    expect(t.events.size).toBe(3);
  });

  it('refuses any stream past the process cap with a 503 JSON error and Retry-After', async () => {
    const refused = await streamFrom('203.0.113.3');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.text())).toEqual({
      error: { code: 'streams_at_capacity', message: 'this instance holds 3 event streams, its most; try again shortly' },
    });
    expect(t.events.size).toBe(3);
  });

  it('counts a stream only while it is open: a client that closes one may open another', async () => {
    held.get('203.0.113.1')![0]!.close();
    await eventually(() => t.events.size === 2, 5_000, 'the closed stream to be let go');
    expect((await streamFrom('203.0.113.1')).status).toBe(200);
    // With room in the process again, the client's own cap still holds.
    held.get('203.0.113.2')![0]!.close();
    await eventually(() => t.events.size === 2, 5_000, "the other client's stream to be let go");
    expect((await streamFrom('203.0.113.1')).status).toBe(429);
  });
});
