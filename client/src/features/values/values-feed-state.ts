import type { ResultEvent, SubmitResponse, ValueList, ValueListItem } from '@fibstack/contract/values';

/** One submitted index as the page lists it: a chip and a row, most recently submitted first. */
export interface SeenIndex {
  index: number;
  /** How many times it was submitted, this page's own submissions included. */
  submissions: number;
  /** The id of its latest submission known here (ids grow in arrival order). */
  lastSubmissionId: string;
}

/** A computed value as lists show it: `value` is a preview when `truncated`. */
export interface KnownValue {
  value: string;
  digits: number;
  truncated: boolean;
}

/** Whether the first page is being fetched, has arrived, or could not be fetched. */
export type FeedStatus = 'loading' | 'ready' | 'error';

/** A submission made on this page. */
interface LocalSubmission {
  index: number;
  submissionId: string;
}

export interface FeedState {
  /** Submissions made here that no page fetched since counts yet, newest first. */
  local: LocalSubmission[];
  /** The indexes of the first page and every page loaded after it, most recently submitted first. */
  fetched: SeenIndex[];
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

function withValues(values: Record<number, KnownValue>, items: ValueListItem[]): Record<number, KnownValue> {
  const merged = { ...values };
  for (const { index, status, value, digits, truncated } of items) {
    if (status === 'done' && value !== undefined && digits !== undefined) {
      merged[index] = { value, digits, truncated: truncated ?? false };
    }
  }
  return merged;
}

const seenOf = (items: ValueListItem[]): SeenIndex[] =>
  items.map(({ index, submissions, lastSubmissionId }) => ({ index, submissions, lastSubmissionId }));

/** Compares submission ids as the numbers they are (they may outgrow a JavaScript number). */
const compareIds = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

/**
 * The local submissions that `fetched` does not count yet: those of an index it does not list, or newer
 * than the latest submission it counts for theirs. Submission ids make this exact, however the page's
 * query and the submission crossed.
 */
function uncounted(local: LocalSubmission[], fetched: SeenIndex[]): LocalSubmission[] {
  const latest = new Map(fetched.map(({ index, lastSubmissionId }) => [index, lastSubmissionId]));
  return local.filter(({ index, submissionId }) => {
    const counted = latest.get(index);
    return counted === undefined || compareIds(submissionId, counted) > 0;
  });
}

/** Each index once, most recently submitted first, counting the fetched pages and this page's submissions. */
export function seenIndexes({ local, fetched }: Pick<FeedState, 'local' | 'fetched'>): SeenIndex[] {
  const byIndex = new Map(fetched.map((seen) => [seen.index, { ...seen }]));
  for (const { index, submissionId } of uncounted(local, fetched)) {
    const seen = byIndex.get(index);
    if (!seen) byIndex.set(index, { index, submissions: 1, lastSubmissionId: submissionId });
    else {
      seen.submissions++;
      if (compareIds(submissionId, seen.lastSubmissionId) > 0) seen.lastSubmissionId = submissionId;
    }
  }
  return [...byIndex.values()].sort((a, b) => compareIds(b.lastSubmissionId, a.lastSubmissionId));
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
      const fetched = seenOf(action.page.items);
      return {
        ...state,
        local: uncounted(state.local, fetched),
        fetched,
        values: withValues(state.values, action.page.items),
        nextCursor: action.page.nextCursor,
        status: 'ready',
      };
    }
    case 'nextPage': {
      if (action.request !== state.request) return state;
      // No index comes twice: the next page holds only indexes last submitted before the page above ended.
      const fetched = [...state.fetched, ...seenOf(action.page.items)];
      return {
        ...state,
        local: uncounted(state.local, fetched),
        fetched,
        values: withValues(state.values, action.page.items),
        nextCursor: action.page.nextCursor,
        loadingMore: false,
      };
    }
    case 'failed':
      if (action.request !== state.request) return state;
      return action.more ? { ...state, loadingMore: false, error: action.message } : { ...state, status: 'error', error: action.message };
    case 'submitted': {
      const { response } = action;
      const values =
        response.status === 'done'
          ? { ...state.values, [response.index]: { value: response.value, digits: response.digits, truncated: response.truncated } }
          : state.values;
      const submission = { index: response.index, submissionId: response.submissionId };
      return { ...state, values, local: [submission, ...state.local] };
    }
    case 'result': {
      const { index, value, digits, truncated } = action.event;
      return { ...state, values: { ...state.values, [index]: { value, digits, truncated } } };
    }
  }
}
