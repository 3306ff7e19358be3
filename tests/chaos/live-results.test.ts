import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '@fibstack/contract/jobs';
import { previewOf } from '@fibstack/contract/values';
import { freePort } from '@fibstack/devstack/ports';
import { startRedis, type NativeRedis } from '@fibstack/devstack/redis';
import { startNativeStack, type NativeStack } from '@fibstack/devstack/stack';
import { closeTestPool, testPool } from '@fibstack/devstack/test-database';
import { eventually, sleep } from '@fibstack/devstack/testkit';
import { fibonacci } from '../../worker/src/fibonacci/fibonacci.js';
import { launchChromium } from '../support/browser.js';
import { installProbes, probed } from '../support/page-probes.js';
import { openEventStream, type EventStream } from '../support/event-stream.js';
import { runLoad } from '../support/submission-load.js';

/**
 * Redis pub/sub is at-most-once: what the worker publishes while the API's subscriber is away (a Redis
 * restart, a failover) never arrives. This proves that no result is lost to a page or a stream that
 * stayed open through such a restart: a real Chromium page submits values before, during and after
 * Redis is stopped (not flushed) and started again, while a background load keeps jobs in flight and
 * results being published, and a raw stream is read alongside.
 */
let stack: NativeStack;
let dataDir: string;
let pool: pg.Pool;
let browser: BrowserContext;
let page: Page;
let stream: EventStream | undefined;
/** The redis-server this file starts again in place of the stack's own, stopped at the end. */
let restartedRedis: NativeRedis | undefined;

/** Values this large take the worker's threads a tenth of a second each: submitted last, they are in flight at the stop. */
const LARGE_INDEX = 1_900_000;

const calculated = () => page.getByRole('region', { name: 'Calculated values' });

/** Submits `index` with the page's own form, and waits until the page lists it (pending or not). */
async function submitOnPage(index: number): Promise<void> {
  await page.getByRole('textbox', { name: 'Index' }).fill(String(index));
  await page.getByRole('button', { name: 'Calculate' }).click();
  await calculated()
    .getByRole('link', { name: String(index), exact: true })
    .waitFor({ timeout: 10_000 });
}

/** Each row of "Calculated values": the index and what the page shows for it. */
function rowsOnPage(): Promise<Array<{ index: number; status: string; value: string }>> {
  return page.$$eval('ul.values li', (items) =>
    items.map((item) => ({
      index: Number(item.querySelector('a')!.textContent),
      status: item.getAttribute('data-status') ?? '',
      value: item.querySelector('.value')?.firstChild?.textContent ?? '',
    })),
  );
}

async function missingResults(indexes: number[]): Promise<number[]> {
  const { rows } = await pool.query<{ i: number }>(
    'SELECT i FROM unnest($1::int[]) AS i WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.index = i)',
    [indexes],
  );
  return rows.map((row) => row.i);
}

/** The frames of an SSE text: each one's `id`, `event` and `data` fields (a comment-only frame has none). */
function framesOf(text: string): Array<{ id?: string; event?: string; data?: string }> {
  return text
    .split('\n\n')
    .slice(0, -1)
    .map((frame) => {
      const fields: Record<string, string> = {};
      for (const line of frame.split('\n')) {
        const match = /^(id|event|data): ?(.*)$/.exec(line);
        if (match) fields[match[1]!] = match[2]!;
      }
      return fields;
    });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fibstack-chaos-live-'));
  stack = await startNativeStack({
    port: await freePort(),
    dataDir,
    persistent: true,
    output: { logDir: join(dataDir, 'logs') },
    // Submissions accepted while Redis is away are queued by the reconciler, so it runs often. The
    // streams' settings (heartbeat, lifetime) are the defaults, as deployed.
    // The server refuses a MAX_INDEX whose values could not all be stored: a budget for 1.9 million (~370 GiB).
    env: { LOG_LEVEL: 'info', RECONCILE_INTERVAL_MS: '1000', MAX_INDEX: String(LARGE_INDEX + 100), STORAGE_BUDGET_GIB: '500' },
  });
  pool = testPool({ connectionString: stack.databaseUrl });
  browser = await launchChromium();
  await installProbes(browser);
});

afterAll(async () => {
  stream?.close();
  await browser?.close();
  if (pool) await closeTestPool(pool);
  await stack?.stop();
  await restartedRedis?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('live results through a Redis restart', () => {
  it('every value submitted before, during and after reaches the open page and the open stream, each event once, in order', async () => {
    page = await browser.newPage();
    await page.goto(stack.url);
    await page.getByText('Values you ask for will appear here.').waitFor({ timeout: 15_000 });
    await eventually(async () => (await probed(page)).streamOpens === 1, 10_000, "the page's event stream to open");
    stream = await openEventStream(`${stack.url}/api/events`);
    await stream.waitFor('retry: 3000', 10_000);

    // Jobs in flight and results being published all along: a background load of other indexes.
    let stopLoad = false;
    const load = runLoad(
      stack.url,
      Array.from({ length: 20_000 }, (_, i) => 20_000 + i),
      2,
      () => stopLoad,
    );
    const onPage: number[] = [];
    const submitSome = async (count: number, from = 1_000) => {
      for (let i = 0; i < count; i++) {
        const index = from + onPage.length;
        await submitOnPage(index);
        onPage.push(index);
      }
    };

    await submitSome(8);
    await submitSome(4, LARGE_INDEX);
    const queueConnection = new Redis(stack.redisUrl, { maxRetriesPerRequest: 1 });
    queueConnection.on('error', () => undefined);
    const queue = new Queue(QUEUE_NAME, { connection: queueConnection });
    queue.on('error', () => undefined);
    const inFlight = await queue.getJobCountByTypes('waiting', 'active');
    await queue.close();
    queueConnection.disconnect();

    const redis = stack.redis!;
    await redis.stop();
    const stoppedAt = Date.now();
    // Postgres holds every submission, so the page's submissions are accepted while Redis is away.
    while (Date.now() - stoppedAt < 5_000) await submitSome(1);
    const duringOutage = onPage.length - 12;
    restartedRedis = await startRedis({ port: redis.port, dataDir: join(dataDir, 'redis') });
    await submitSome(8);
    await sleep(2_000);
    stopLoad = true;
    const { accepted } = await load;

    // Every value stored in Postgres first (the reconciler queues what was accepted while Redis was away).
    const everything = [...onPage, ...accepted];
    await eventually(async () => (await missingResults(everything)).length === 0, 90_000, 'every accepted value to be stored');

    // The page shows each of its values, without a reload and over the stream it opened at the start.
    const pendingOnPage = async () => (await rowsOnPage()).filter((row) => row.status !== 'done').map((row) => row.index);
    await eventually(async () => (await pendingOnPage()).length === 0, 30_000, 'the open page to show every value').catch(
      async (error: Error) => {
        throw new Error(`${error.message}; still pending: ${(await pendingOnPage()).join(', ')}`);
      },
    );
    const rows = await rowsOnPage();
    expect(rows.map((row) => row.index).sort()).toEqual([...onPage].sort());
    for (const row of rows) expect(row.value, `the value of ${row.index}`).toBe(previewOf(fibonacci(row.index).toString()).value);
    expect((await probed(page)).streamOpens).toBe(1);

    // The raw stream: every result event has an id, each id comes once and in increasing order, and every
    // value stored after the stream opened has exactly one event.
    const results = framesOf(stream.text()).filter((frame) => frame.event === 'result');
    const indexes = results.map((frame) => (JSON.parse(frame.data!) as { index: number }).index);
    const counted = new Map<number, number>();
    for (const index of indexes) counted.set(index, (counted.get(index) ?? 0) + 1);
    expect(everything.filter((index) => counted.get(index) !== 1)).toEqual([]);
    const ids = results.map((frame) => frame.id);
    expect(ids.filter((id) => id === undefined || !/^\d+$/.test(id))).toEqual([]);
    const numbers = ids.map(Number);
    expect(numbers.filter((id, i) => i > 0 && id <= numbers[i - 1]!)).toEqual([]);

    console.table([
      {
        jobsInFlightAtStop: inFlight,
        submittedOnPage: onPage.length,
        onPageDuringOutage: duringOutage,
        backgroundAccepted: accepted.length,
        resultEventsOnStream: results.length,
      },
    ]);
    expect(inFlight).toBeGreaterThan(0);
    expect(duringOutage).toBeGreaterThan(0);
  });
});
