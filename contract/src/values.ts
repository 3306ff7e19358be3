import { z } from 'zod/mini';

/** Largest index accepted unless the server is configured otherwise (MAX_INDEX). */
export const DEFAULT_MAX_INDEX = 100_000;

/** Values longer than this are shortened in lists and events; `GET /api/values/:index` serves them whole. */
export const PREVIEW_DIGITS = 60;

/** Page size bounds for `GET /api/values`. */
export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export type IndexRule = 'index_required' | 'index_not_number' | 'index_not_integer' | 'index_negative' | 'index_too_large';

export type IndexCheck = { ok: true; index: number } | { ok: false; code: IndexRule; message: string };

function describe(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'an array';
  if (typeof input === 'string') return `the string ${JSON.stringify(input.slice(0, 40))}`;
  return `a ${typeof input}`;
}

/**
 * The one rule set for an index, applied by the client before it sends and by the server before it stores.
 * Rules are checked in order, so the first one broken is the one reported.
 */
export function checkIndex(input: unknown, maxIndex: number): IndexCheck {
  if (input === undefined) {
    return { ok: false, code: 'index_required', message: 'index is required' };
  }
  if (typeof input !== 'number') {
    return { ok: false, code: 'index_not_number', message: `index must be a number, got ${describe(input)}` };
  }
  if (!Number.isFinite(input) || !Number.isInteger(input)) {
    return { ok: false, code: 'index_not_integer', message: `index must be a whole number, got ${input}` };
  }
  if (input < 0) {
    return { ok: false, code: 'index_negative', message: `index must not be negative, got ${input}` };
  }
  if (input > maxIndex) {
    return { ok: false, code: 'index_too_large', message: `index must be at most ${maxIndex}, got ${input}` };
  }
  // -0 passes every rule above; store it as 0.
  return { ok: true, index: input === 0 ? 0 : input };
}

/** Shortens a long value for lists and events: the leading digits followed by an ellipsis. */
export function previewOf(value: string): { value: string; truncated: boolean } {
  if (value.length <= PREVIEW_DIGITS) return { value, truncated: false };
  return { value: `${value.slice(0, PREVIEW_DIGITS)}…`, truncated: true };
}

const index = z.number().check(z.int(), z.nonnegative());
const isoDate = z.string();
/**
 * A submission's id: ids grow in the order submissions arrive (submissions of one index that arrive
 * together share one). Decimal digits, compared as numbers; it may outgrow a JavaScript number's exact range.
 */
const submissionId = z.string().check(z.regex(/^[1-9]\d{0,18}$/));

/**
 * `POST /api/values` answers 202 with a pending result, or 200 with the value when it is already known;
 * `submissionId` tells a client whether a page of the list it fetches already counts this submission
 * (its index's `lastSubmissionId` is at least this one).
 */
export const submitResponseSchema = z.discriminatedUnion('status', [
  z.object({ index, status: z.literal('pending'), submissionId }),
  z.object({ index, status: z.literal('done'), submissionId, value: z.string(), digits: z.number(), truncated: z.boolean() }),
]);
export type SubmitResponse = z.infer<typeof submitResponseSchema>;

/**
 * One submitted index in `GET /api/values`, most recently submitted first: each index once, with how
 * many times it was submitted; `value` is a preview when `truncated`.
 */
export const valueListItemSchema = z.object({
  index,
  status: z.enum(['pending', 'done']),
  submissions: z.number().check(z.int(), z.positive()),
  firstSubmittedAt: isoDate,
  lastSubmittedAt: isoDate,
  lastSubmissionId: submissionId,
  value: z.optional(z.string()),
  digits: z.optional(z.number()),
  truncated: z.optional(z.boolean()),
});
export type ValueListItem = z.infer<typeof valueListItemSchema>;

export const valueListSchema = z.object({
  items: z.array(valueListItemSchema),
  nextCursor: z.nullable(z.string()),
});
export type ValueList = z.infer<typeof valueListSchema>;

/** `GET /api/values/:index`: the whole value once computed. */
export const valueDetailSchema = z.discriminatedUnion('status', [
  z.object({ index, status: z.literal('pending') }),
  z.object({
    index,
    status: z.literal('done'),
    value: z.string(),
    digits: z.number(),
    computedAt: isoDate,
    computeMs: z.number(),
  }),
]);
export type ValueDetail = z.infer<typeof valueDetailSchema>;

/**
 * Data of each `event: result` on `GET /api/events`, sent when the worker stores a value. Its SSE `id`
 * is the result's place in the order values were stored, the same on every API replica.
 */
export const resultEventSchema = z.object({
  index,
  value: z.string(),
  digits: z.number(),
  truncated: z.boolean(),
  computeMs: z.number(),
  computedAt: isoDate,
});
export type ResultEvent = z.infer<typeof resultEventSchema>;

/**
 * Data of the `event: ready` that starts every stream of `GET /api/events`, with the `id` the stream
 * starts after. `resumed`: every result after the Last-Event-ID asked for follows. Otherwise results
 * stored before this stream may have been missed (a first connection, or one too far behind to be sent
 * what it missed): refetch whatever is shown as pending.
 */
export const streamReadySchema = z.object({ resumed: z.boolean() });
export type StreamReady = z.infer<typeof streamReadySchema>;
