import { useCallback, useEffect, useReducer } from 'react';
import type { ResultEvent, SubmitResponse, ValueListItem } from '@fibstack/contract/values';
import { ApiRequestError } from '../../lib/http';
import { listValues } from './api';

/** One row of "Indexes I have seen"; ids of submissions made on this page are local until a reload. */
export interface Submission {
  id: string;
  index: number;
}

/** A computed value as lists show it: `value` is a preview when `truncated`. */
export interface KnownValue {
  value: string;
  digits: number;
  truncated: boolean;
}

/** Whether the first page is being fetched, has arrived, or could not be fetched. */
export type FeedStatus = 'loading' | 'ready' | 'error';

interface FeedState {
  submissions: Submission[];
  /** Every value seen so far, from pages and from live events, by index. */
  values: Record<number, KnownValue>;
  nextCursor: string | null;
  status: FeedStatus;
  loadingMore: boolean;
  error?: string;
}

type FeedAction =
  | { type: 'loading' }
  | { type: 'page'; items: ValueListItem[]; nextCursor: string | null; append: boolean }
  | { type: 'failed'; message: string; append: boolean }
  | { type: 'loadingMore' }
  | { type: 'submitted'; response: SubmitResponse }
  | { type: 'result'; event: ResultEvent };

let localIds = 0;

function valuesFrom(items: ValueListItem[]): Record<number, KnownValue> {
  const values: Record<number, KnownValue> = {};
  for (const item of items) {
    if (item.status === 'done' && item.value !== undefined && item.digits !== undefined) {
      values[item.index] = { value: item.value, digits: item.digits, truncated: item.truncated ?? false };
    }
  }
  return values;
}

function reducer(state: FeedState, action: FeedAction): FeedState {
  switch (action.type) {
    case 'loading':
      return { ...state, status: 'loading', error: undefined };
    case 'loadingMore':
      return { ...state, loadingMore: true, error: undefined };
    case 'page': {
      const page = action.items.map(({ id, index }) => ({ id, index }));
      return {
        ...state,
        submissions: action.append ? [...state.submissions, ...page] : page,
        values: { ...state.values, ...valuesFrom(action.items) },
        nextCursor: action.nextCursor,
        status: 'ready',
        loadingMore: false,
      };
    }
    case 'failed':
      return action.append
        ? { ...state, loadingMore: false, error: action.message }
        : { ...state, status: 'error', loadingMore: false, error: action.message };
    case 'submitted': {
      const { response } = action;
      const values =
        response.status === 'done'
          ? { ...state.values, [response.index]: { value: response.value, digits: response.digits, truncated: response.truncated } }
          : state.values;
      return { ...state, values, submissions: [{ id: `local-${++localIds}`, index: response.index }, ...state.submissions] };
    }
    case 'result': {
      const { index, value, digits, truncated } = action.event;
      return { ...state, values: { ...state.values, [index]: { value, digits, truncated } } };
    }
  }
}

const messageOf = (error: unknown) =>
  error instanceof ApiRequestError ? error.message : 'Something went wrong while loading the values.';

/**
 * The submissions shown on the home page and the values known for them: the first page on mount,
 * further pages on request, new submissions at once, and results as they are announced.
 */
export function useValuesFeed() {
  const [state, dispatch] = useReducer(reducer, {
    submissions: [],
    values: {},
    nextCursor: null,
    status: 'loading',
    loadingMore: false,
  });

  const reload = useCallback(async () => {
    dispatch({ type: 'loading' });
    try {
      const page = await listValues();
      dispatch({ type: 'page', items: page.items, nextCursor: page.nextCursor, append: false });
    } catch (error) {
      dispatch({ type: 'failed', message: messageOf(error), append: false });
    }
  }, []);

  const loadMore = useCallback(async () => {
    if (!state.nextCursor) return;
    dispatch({ type: 'loadingMore' });
    try {
      const page = await listValues(state.nextCursor);
      dispatch({ type: 'page', items: page.items, nextCursor: page.nextCursor, append: true });
    } catch (error) {
      dispatch({ type: 'failed', message: messageOf(error), append: true });
    }
  }, [state.nextCursor]);

  useEffect(() => {
    void reload();
  }, [reload]);

  return {
    ...state,
    reload,
    loadMore,
    addSubmission: useCallback((response: SubmitResponse) => dispatch({ type: 'submitted', response }), []),
    applyResult: useCallback((event: ResultEvent) => dispatch({ type: 'result', event }), []),
  };
}
