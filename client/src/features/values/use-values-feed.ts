import { useCallback, useEffect, useMemo, useReducer, useRef } from 'react';
import type { ResultEvent, SubmitResponse } from '@fibstack/contract/values';
import { explain } from '../../lib/error-messages';
import { useResultEvents } from '../../lib/use-result-events';
import { listValues } from './api';
import { feedReducer, initialFeed, seenIndexes } from './values-feed-state';

/** A value as the page announces it. */
export type ShownValue = Pick<ResultEvent, 'index' | 'value' | 'digits' | 'truncated'>;

/**
 * The submitted indexes shown on the home page and the values known for them: the first page on mount
 * and on `reload`, further pages on request, new submissions at once, and results as they are announced.
 * `onValueShown` hears of values that appear in place of "pending" on this page (its own submissions
 * included), not of every result the server announces to everyone.
 */
export function useValuesFeed(onValueShown: (value: ShownValue) => void) {
  const [state, dispatch] = useReducer(feedReducer, initialFeed);
  const requests = useRef(0);
  /** Results heard on the stream, at once: one may come before the answer to the submission it is for. */
  const heard = useRef(new Map<number, ShownValue>());
  /** This page's own submissions still without a value: announced however their value arrives. */
  const awaited = useRef(new Set<number>());
  /** A stream started without resuming while the first page was on its way: that page may predate a result. */
  const recheck = useRef(false);

  const reload = useCallback(async () => {
    const request = ++requests.current;
    dispatch({ type: 'loading', request });
    try {
      dispatch({ type: 'firstPage', request, page: await listValues() });
    } catch (error) {
      dispatch({ type: 'failed', request, more: false, message: explain(error).text });
    }
  }, []);

  const { nextCursor, request } = state;
  const loadMore = useCallback(async () => {
    if (!nextCursor) return;
    dispatch({ type: 'loadingMore' });
    try {
      dispatch({ type: 'nextPage', request, page: await listValues(nextCursor) });
    } catch (error) {
      dispatch({ type: 'failed', request, more: true, message: explain(error).text });
    }
  }, [nextCursor, request]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const seen = useMemo(() => seenIndexes({ local: state.local, fetched: state.fetched }), [state.local, state.fetched]);
  const isPending = (index: number) => !(index in state.values) && seen.some((entry) => entry.index === index);
  const waiting = seen.some((entry) => !(entry.index in state.values));

  const stream = useResultEvents({
    onResult: (event) => {
      // This page's own submission counts even when the event comes before the render that lists it.
      const fillsIn = isPending(event.index) || awaited.current.has(event.index);
      heard.current.set(event.index, event);
      awaited.current.delete(event.index);
      dispatch({ type: 'result', event });
      if (fillsIn) onValueShown(event);
    },
    // The API answers again: fetch the first page if it could not be fetched at all.
    onOpen: () => {
      if (state.status === 'error') void reload();
    },
    // A stream that did not resume (the first one, or one too far behind): a value shown as pending may
    // have been stored before it, so fetch again, but only then. A resumed stream replays what it missed.
    onMissed: () => {
      if (state.status === 'loading') recheck.current = true;
      else if (state.status === 'ready' && waiting) void reload();
    },
  });

  // A value this page asked for that came with a page fetched again (after live updates were paused).
  useEffect(() => {
    for (const index of awaited.current) {
      const known = state.values[index];
      if (!known) continue;
      awaited.current.delete(index);
      onValueShown({ index, ...known });
    }
  });

  useEffect(() => {
    if (!recheck.current || state.status === 'loading') return;
    recheck.current = false;
    if (waiting) void reload();
  }, [state.status, waiting, reload]);

  return {
    status: state.status,
    error: state.error,
    values: state.values,
    nextCursor,
    loadingMore: state.loadingMore,
    seen,
    live: stream.status,
    reload,
    loadMore,
    /** Lists a submission this page made; its value is announced if it is known already. */
    addSubmission: (response: SubmitResponse) => {
      dispatch({ type: 'submitted', response });
      const known = response.status === 'done' ? response : heard.current.get(response.index);
      if (known) onValueShown(known);
      else awaited.current.add(response.index);
    },
  };
}
