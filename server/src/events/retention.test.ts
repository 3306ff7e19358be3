import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Retention } from '@fibstack/service-kit/retention';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';
import { listenOnFreePort, type Listening } from '../testing/listening.js';
import { openStream, readyOf, storeResult, type SseFrame, type StreamUnderTest } from '../testing/event-stream-client.js';

/**
 * The retention job deletes results the live stream has sent, and may delete the newest of all. A
 * stream open meanwhile must neither lose nor repeat a result, and a browser resuming from the id of a
 * deleted result must be sent what followed it.
 */
let t: AppUnderTest;
let listening: Listening;
let baseUrl: string;
const opened: StreamUnderTest[] = [];

beforeAll(async () => {
  t = await startAppUnderTest();
  listening = await listenOnFreePort(t.app);
  baseUrl = listening.baseUrl;
});
afterAll(async () => {
  for (const stream of opened) stream.close();
  listening?.close();
  await t.close();
});

const hasResults = (count: number) => (frames: SseFrame[]) => frames.filter((frame) => frame.event === 'result').length >= count;

async function open(headers: Record<string, string> = {}): Promise<StreamUnderTest> {
  const stream = await openStream(baseUrl, { headers });
  opened.push(stream);
  await stream.until((frames) => readyOf(frames) !== undefined, 'the ready event');
  return stream;
}

/** A stored, announced result for `index`, whose index was last submitted `daysAgo` days ago. */
async function computed(index: number, daysAgo: number) {
  await t.pool.query(
    `INSERT INTO submitted_indexes (index, submissions, last_submitted_at) VALUES ($1, 1, now() - make_interval(days => $2))`,
    [index, daysAgo],
  );
  return storeResult(t.pool, t.redis, index);
}

describe('the live stream while retention deletes results', () => {
  it('sends every result once, in order, across the deletion of results it sent, the newest included', async () => {
    const watching = await open();
    const kept = await computed(1, 1);
    const expired = [await computed(2, 40), await computed(3, 40)];
    await watching.until(hasResults(3), 'the first three results');

    expect(await new Retention(t.pool, pino({ level: 'silent' }), 30).sweep()).toMatchObject({ indexes: 2, values: 2 });
    expect((await t.pool.query('SELECT max(id)::int AS id FROM results')).rows[0]).toEqual({ id: kept.id });

    const next = await computed(4, 0);
    await watching.until(hasResults(4), 'the result stored after the sweep');
    expect(watching.results()).toEqual([kept, ...expired, next]);

    // A browser whose last event was a deleted result (the newest when it was deleted) resumes after it.
    const resumed = await open({ 'Last-Event-ID': String(expired[1]!.id) });
    expect(readyOf(resumed.frames())).toEqual({ id: expired[1]!.id, resumed: true });
    await resumed.until(hasResults(1), 'the result after the deleted one');
    expect(resumed.results()).toEqual([next]);
  });
});
