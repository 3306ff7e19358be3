import { useCallback, useEffect, useMemo, useReducer, useRef } from 'react';
import type { ResultEvent, SubmitResponse } from '@fibstack/contract/values';
import { ApiRequestError } from '../../lib/http';
import { listValues } from './api';
import { feedReducer, initialFeed } from './values-feed-state';

const messageOf = (error: unknown) =>
  error instanceof ApiRequestError ? error.message : 'Something went wrong while loading the values.';

/**
 * The submissions shown on the home page and the values known for them: the first page on mount and
 * on `reload`, further pages on request, new submissions at once, and results as they are announced.
 */
export function useValuesFeed() {
  const [state, dispatch] = useReducer(feedReducer, initialFeed);
  const requests = useRef(0);

  const reload = useCallback(async () => {
    const request = ++requests.current;
    dispatch({ type: 'loading', request });
    try {
      dispatch({ type: 'firstPage', request, page: await listValues() });
    } catch (error) {
      dispatch({ type: 'failed', request, more: false, message: messageOf(error) });
    }
  }, []);

  const { nextCursor, request } = state;
  const loadMore = useCallback(async () => {
    if (!nextCursor) return;
    dispatch({ type: 'loadingMore' });
    try {
      dispatch({ type: 'nextPage', request, page: await listValues(nextCursor) });
    } catch (error) {
      dispatch({ type: 'failed', request, more: true, message: messageOf(error) });
    }
  }, [nextCursor, request]);

  useEffect(() => {
    void reload();
  }, [reload]);

  const submissions = useMemo(() => [...state.local, ...state.fetched], [state.local, state.fetched]);

  return {
    status: state.status,
    error: state.error,
    values: state.values,
    nextCursor,
    loadingMore: state.loadingMore,
    submissions,
    /** Whether some listed index has no value yet, so a missed result event would leave it stale. */
    waiting: submissions.some((submission) => !(submission.index in state.values)),
    reload,
    loadMore,
    addSubmission: useCallback((response: SubmitResponse) => dispatch({ type: 'submitted', response }), []),
    applyResult: useCallback((event: ResultEvent) => dispatch({ type: 'result', event }), []),
  };
}
