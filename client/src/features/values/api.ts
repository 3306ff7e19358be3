import {
  submitResponseSchema,
  valueDetailSchema,
  valueListSchema,
  type SubmitResponse,
  type ValueDetail,
  type ValueList,
} from '@fibstack/contract/values';
import { requestJson } from '../../lib/http';

/** `POST /api/values`: asks for Fibonacci(index); the answer is pending, or done when already known. */
export function submitIndex(index: number): Promise<SubmitResponse> {
  return requestJson('/api/values', submitResponseSchema, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ index }),
  });
}

/** `GET /api/values`: one page of submitted indexes, most recently submitted first; pass `nextCursor` for the next page. */
export function listValues(cursor?: string): Promise<ValueList> {
  return requestJson(cursor ? `/api/values?cursor=${encodeURIComponent(cursor)}` : '/api/values', valueListSchema);
}

/** `GET /api/values/:index`: the whole value, or pending; a 404 means the index was never submitted. */
export function getValue(index: number): Promise<ValueDetail> {
  return requestJson(`/api/values/${index}`, valueDetailSchema);
}
