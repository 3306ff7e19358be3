import type { ValueList } from '@fibstack/contract/values';
import { describe, expect, it } from 'vitest';
import { feedReducer, initialFeed, type FeedAction, type FeedState } from './values-feed-state';

const at = '2026-11-24T10:00:00.000Z';

function page(indexes: number[], nextCursor: string | null = null): ValueList {
  return {
    items: indexes.map((index, i) => ({ id: `s${index}-${i}`, index, status: 'pending', submittedAt: at })),
    nextCursor,
  };
}

const run = (...actions: FeedAction[]): FeedState => actions.reduce(feedReducer, initialFeed);
const shown = (state: FeedState) => [...state.local, ...state.fetched].map((submission) => submission.index);
const submitted = (index: number): FeedAction => ({ type: 'submitted', response: { index, status: 'pending' } });

describe('feedReducer', () => {
  it('ignores the answer to a first-page request that a newer one replaced', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'loading', request: 2 },
      { type: 'firstPage', request: 2, page: page([8, 7]) },
      { type: 'firstPage', request: 1, page: page([7]) },
    );
    expect(shown(state)).toEqual([8, 7]);
    expect(state.status).toBe('ready');
  });

  it('ignores a next page that continues a list fetched again since', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'firstPage', request: 1, page: page([9], 'c1') },
      { type: 'loadingMore' },
      { type: 'loading', request: 2 },
      { type: 'firstPage', request: 2, page: page([10, 9], 'c2') },
      { type: 'nextPage', request: 1, page: page([3]) },
    );
    expect(shown(state)).toEqual([10, 9]);
    expect(state.nextCursor).toBe('c2');
  });

  it('keeps a submission made while the first page was on its way, once', () => {
    const missed = run({ type: 'loading', request: 1 }, submitted(10), { type: 'firstPage', request: 1, page: page([5]) });
    expect(shown(missed)).toEqual([10, 5]);

    const included = run({ type: 'loading', request: 1 }, submitted(10), {
      type: 'firstPage',
      request: 1,
      page: page([10, 5]),
    });
    expect(shown(included)).toEqual([10, 5]);
  });

  it('leaves a submission to the server once a later request must contain it', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'firstPage', request: 1, page: page([]) },
      submitted(10),
      { type: 'loading', request: 2 },
      { type: 'firstPage', request: 2, page: page([10]) },
    );
    expect(state.local).toEqual([]);
    expect(shown(state)).toEqual([10]);
  });

  it('remembers values from pages, answers and events, and keeps them across a refetch', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'result', event: { index: 7, value: '13', digits: 2, truncated: false, computeMs: 1, computedAt: at } },
      { type: 'submitted', response: { index: 12, status: 'done', value: '144', digits: 3, truncated: false } },
      { type: 'firstPage', request: 1, page: page([7]) },
    );
    expect(state.values).toEqual({
      7: { value: '13', digits: 2, truncated: false },
      12: { value: '144', digits: 3, truncated: false },
    });
  });

  it('reports a failed next page without dropping what is shown', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'firstPage', request: 1, page: page([9], 'c1') },
      { type: 'loadingMore' },
      { type: 'failed', request: 1, more: true, message: 'down' },
    );
    expect(state).toMatchObject({ status: 'ready', loadingMore: false, error: 'down', nextCursor: 'c1' });
    expect(shown(state)).toEqual([9]);
  });
});
