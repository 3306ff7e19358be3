import { describe, expect, it } from 'vitest';
import { MicroBatcher } from './batch.js';

/** A flush that records each batch it gets and answers each item doubled, once `release` is called. */
function recordingFlush() {
  const batches: number[][] = [];
  const pending: Array<() => void> = [];
  const flush = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) => pending.push(() => resolve(items.map((item) => item * 2))));
  };
  const releaseAll = () => pending.splice(0).forEach((release) => release());
  return { batches, flush, releaseAll };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('MicroBatcher', () => {
  it('serves calls made in the same turn with one flush, each caller getting its own result', async () => {
    const { batches, flush, releaseAll } = recordingFlush();
    const batcher = new MicroBatcher(flush, { maxBatch: 100, maxInFlight: 1 });
    const results = Promise.all([1, 2, 3].map((item) => batcher.run(item)));
    await nextTurn();
    releaseAll();
    expect(await results).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('gathers callers who arrive while every flush is busy into the next batch', async () => {
    const { batches, flush, releaseAll } = recordingFlush();
    const batcher = new MicroBatcher(flush, { maxBatch: 100, maxInFlight: 2 });
    const first = batcher.run(1);
    await nextTurn();
    const second = batcher.run(2);
    await nextTurn();
    const later = [3, 4, 5].map((item) => batcher.run(item));
    await nextTurn();
    expect(batches).toEqual([[1], [2]]);
    releaseAll();
    expect(await Promise.all([first, second])).toEqual([2, 4]);
    await nextTurn();
    releaseAll();
    expect(await Promise.all(later)).toEqual([6, 8, 10]);
    expect(batches).toEqual([[1], [2], [3, 4, 5]]);
  });

  it('splits a crowd into batches of at most maxBatch', async () => {
    const { batches, flush, releaseAll } = recordingFlush();
    const batcher = new MicroBatcher(flush, { maxBatch: 2, maxInFlight: 4 });
    const results = Promise.all([1, 2, 3, 4, 5].map((item) => batcher.run(item)));
    await nextTurn();
    releaseAll();
    expect(await results).toEqual([2, 4, 6, 8, 10]);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('never runs more than maxInFlight flushes at once: the rest of a crowd waits for one to finish', async () => {
    const { batches, flush, releaseAll } = recordingFlush();
    const batcher = new MicroBatcher(flush, { maxBatch: 2, maxInFlight: 2 });
    const results = Promise.all([1, 2, 3, 4, 5].map((item) => batcher.run(item)));
    await nextTurn();
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    releaseAll();
    await nextTurn();
    await nextTurn();
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
    releaseAll();
    expect(await results).toEqual([2, 4, 6, 8, 10]);
  });

  it('gives a failed flush to every caller of that batch, and keeps serving the next ones', async () => {
    let fail = true;
    const batcher = new MicroBatcher(
      async (items: number[]) => {
        if (fail) throw new Error('connection lost');
        return items;
      },
      { maxBatch: 10, maxInFlight: 1 },
    );
    const failed = [1, 2].map((item) => batcher.run(item));
    for (const call of failed) await expect(call).rejects.toThrow('connection lost');
    fail = false;
    expect(await batcher.run(3)).toBe(3);
  });

  it('rejects a batch whose flush returned the wrong number of results', async () => {
    const batcher = new MicroBatcher(async (items: number[]) => items.slice(1), { maxBatch: 10, maxInFlight: 1 });
    const calls = [1, 2].map((item) => batcher.run(item));
    for (const call of calls) await expect(call).rejects.toThrow('a batch of 2 items was flushed with 1 results');
  });
});
