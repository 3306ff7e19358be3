import type { ResultEvent, SubmitResponse, ValueList, ValueListItem } from '@fibstack/contract/values';

/** One chip of "Indexes I have seen". */
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

/** A submission made on this page that no fetched first page is known to contain yet. */
interface LocalSubmission extends Submission {
  /** The latest first-page request sent before the server confirmed this submission. */
  after: number;
}

export interface FeedState {
  /** Submissions made here, newest first; they are listed above the fetched ones. */
  local: LocalSubmission[];
  /** Submissions from the first page and every page loaded after it, newest first. */
  fetched: Submission[];
  /** Every value seen so far, from pages, submissions and live events, by index. */
  values: Record<number, KnownValue>;
  nextCursor: string | null;
  status: FeedStatus;
  loadingMore: boolean;
  error?: string;
  /** Number of the latest first-page request: answers to earlier ones, or pages after them, are stale. */
  request: number;
}

export type FeedAction =
  | { type: 'loading'; request: number }
  | { type: 'firstPage'; request: number; page: ValueList }
  | { type: 'loadingMore' }
  | { type: 'nextPage'; request: number; page: ValueList }
  | { type: 'failed'; request: number; more: boolean; message: string }
  | { type: 'submitted'; response: SubmitResponse }
  | { type: 'result'; event: ResultEvent };

export const initialFeed: FeedState = {
  local: [],
  fetched: [],
  values: {},
  nextCursor: null,
  status: 'loading',
  loadingMore: false,
  request: 0,
};

let localIds = 0;

function withValues(values: Record<number, KnownValue>, items: ValueListItem[]): Record<number, KnownValue> {
  const merged = { ...values };
  for (const { index, status, value, digits, truncated } of items) {
    if (status === 'done' && value !== undefined && digits !== undefined) {
      merged[index] = { value, digits, truncated: truncated ?? false };
    }
  }
  return merged;
}

const submissionsOf = (items: ValueListItem[]): Submission[] => items.map(({ id, index }) => ({ id, index }));

/**
 * Keeps the local submissions an answer to `request` may not contain: those confirmed after it was sent.
 * If its query ran after their insert after all, they are at the top of the page, so one of the same
 * index there counts as the same submission.
 */
function unconfirmed(local: LocalSubmission[], request: number, fetched: Submission[]): LocalSubmission[] {
  const maybeNew = local.filter((submission) => submission.after >= request);
  const top = fetched.slice(0, maybeNew.length).map((submission) => submission.index);
  return maybeNew.filter((submission) => {
    const at = top.indexOf(submission.index);
    if (at === -1) return true;
    top.splice(at, 1);
    return false;
  });
}

/** The home page's list state; page answers carry the request they answer so late ones are dropped. */
export function feedReducer(state: FeedState, action: FeedAction): FeedState {
  switch (action.type) {
    case 'loading':
      return { ...state, request: action.request, status: 'loading', loadingMore: false, error: undefined };
    case 'loadingMore':
      return { ...state, loadingMore: true, error: undefined };
    case 'firstPage': {
      if (action.request !== state.request) return state;
      const fetched = submissionsOf(action.page.items);
      return {
        ...state,
        local: unconfirmed(state.local, action.request, fetched),
        fetched,
        values: withValues(state.values, action.page.items),
        nextCursor: action.page.nextCursor,
        status: 'ready',
      };
    }
    case 'nextPage':
      if (action.request !== state.request) return state;
      return {
        ...state,
        fetched: [...state.fetched, ...submissionsOf(action.page.items)],
        values: withValues(state.values, action.page.items),
        nextCursor: action.page.nextCursor,
        loadingMore: false,
      };
    case 'failed':
      if (action.request !== state.request) return state;
      return action.more ? { ...state, loadingMore: false, error: action.message } : { ...state, status: 'error', error: action.message };
    case 'submitted': {
      const { response } = action;
      const values =
        response.status === 'done'
          ? { ...state.values, [response.index]: { value: response.value, digits: response.digits, truncated: response.truncated } }
          : state.values;
      const submission = { id: `local-${++localIds}`, index: response.index, after: state.request };
      return { ...state, values, local: [submission, ...state.local] };
    }
    case 'result': {
      const { index, value, digits, truncated } = action.event;
      return { ...state, values: { ...state.values, [index]: { value, digits, truncated } } };
    }
  }
}
