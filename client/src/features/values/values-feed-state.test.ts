import type { SubmitResponse, ValueList } from '@fibstack/contract/values';
import { describe, expect, it } from 'vitest';
import { feedReducer, initialFeed, seenIndexes, type FeedAction, type FeedState } from './values-feed-state';

const at = '2026-11-24T10:00:00.000Z';

/** A page listing `[index, lastSubmissionId, submissions?]`, most recently submitted first. */
function page(entries: Array<[number, number, number?]>, nextCursor: string | null = null): ValueList {
  return {
    items: entries.map(([index, id, submissions = 1]) => ({
      index,
      status: 'pending',
      submissions,
      firstSubmittedAt: at,
      lastSubmittedAt: at,
      lastSubmissionId: String(id),
    })),
    nextCursor,
  };
}

const run = (...actions: FeedAction[]): FeedState => actions.reduce(feedReducer, initialFeed);
const shown = (state: FeedState) => seenIndexes(state).map(({ index, submissions }) => [index, submissions]);
const submitted = (index: number, submissionId: number, response: Partial<SubmitResponse> = {}): FeedAction => ({
  type: 'submitted',
  response: { index, status: 'pending', submissionId: String(submissionId), ...response } as SubmitResponse,
});

describe('feedReducer', () => {
  it('ignores the answer to a first-page request that a newer one replaced', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'loading', request: 2 },
      {
        type: 'firstPage',
        request: 2,
        page: page([
          [8, 2],
          [7, 1],
        ]),
      },
      { type: 'firstPage', request: 1, page: page([[7, 1]]) },
    );
    expect(shown(state)).toEqual([
      [8, 1],
      [7, 1],
    ]);
    expect(state.status).toBe('ready');
  });

  it('ignores a next page that continues a list fetched again since', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'firstPage', request: 1, page: page([[9, 5]], 'c1') },
      { type: 'loadingMore' },
      { type: 'loading', request: 2 },
      {
        type: 'firstPage',
        request: 2,
        page: page(
          [
            [10, 6],
            [9, 5],
          ],
          'c2',
        ),
      },
      { type: 'nextPage', request: 1, page: page([[3, 1]]) },
    );
    expect(shown(state)).toEqual([
      [10, 1],
      [9, 1],
    ]);
    expect(state.nextCursor).toBe('c2');
  });

  it('counts a submission made while the first page was on its way once, whether the page counts it or not', () => {
    // The page's query ran before the submission: the page lists index 10 with its earlier submission only.
    const missed = run({ type: 'loading', request: 1 }, submitted(10, 7), {
      type: 'firstPage',
      request: 1,
      page: page([
        [5, 6],
        [10, 4],
      ]),
    });
    expect(shown(missed)).toEqual([
      [10, 2],
      [5, 1],
    ]);

    // It ran after: the page counts it already.
    const included = run({ type: 'loading', request: 1 }, submitted(10, 7), {
      type: 'firstPage',
      request: 1,
      page: page([
        [10, 7, 2],
        [5, 6],
      ]),
    });
    expect(shown(included)).toEqual([
      [10, 2],
      [5, 1],
    ]);
    expect(included.local).toEqual([]);
  });

  it('counts its own submissions of an index a page has not reached yet, until a page lists it', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'firstPage', request: 1, page: page([[30, 40]], '40') },
      submitted(2, 41),
      submitted(2, 42),
    );
    expect(shown(state)).toEqual([
      [2, 2],
      [30, 1],
    ]);
    const more = run(
      { type: 'loading', request: 1 },
      submitted(2, 12),
      { type: 'firstPage', request: 1, page: page([[30, 40]], '40') },
      { type: 'loadingMore' },
      { type: 'nextPage', request: 1, page: page([[2, 12, 5]]) },
    );
    expect(shown(more)).toEqual([
      [30, 1],
      [2, 5],
    ]);
    expect(more.local).toEqual([]);
  });

  it('orders by submission id as a number, past what a JavaScript number holds exactly', () => {
    const local = [
      { index: 4, submissionId: '9007199254740993' },
      { index: 5, submissionId: '9007199254740992' },
      { index: 6, submissionId: '10' },
    ];
    expect(seenIndexes({ local, fetched: [{ index: 7, submissions: 1, lastSubmissionId: '9' }] }).map(({ index }) => index)).toEqual([
      4, 5, 6, 7,
    ]);
  });

  it('remembers values from pages, answers and events, and keeps them across a refetch', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'result', event: { index: 7, value: '13', digits: 2, truncated: false, computeMs: 1, computedAt: at } },
      submitted(12, 3, { status: 'done', value: '144', digits: 3, truncated: false }),
      { type: 'firstPage', request: 1, page: page([[7, 1]]) },
    );
    expect(state.values).toEqual({
      7: { value: '13', digits: 2, truncated: false },
      12: { value: '144', digits: 3, truncated: false },
    });
  });

  it('reports a failed next page without dropping what is shown', () => {
    const state = run(
      { type: 'loading', request: 1 },
      { type: 'firstPage', request: 1, page: page([[9, 1]], 'c1') },
      { type: 'loadingMore' },
      { type: 'failed', request: 1, more: true, message: 'down' },
    );
    expect(state).toMatchObject({ status: 'ready', loadingMore: false, error: 'down', nextCursor: 'c1' });
    expect(shown(state)).toEqual([[9, 1]]);
  });
});
