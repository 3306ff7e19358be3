import {
  submitResponseSchema,
  valueDetailSchema,
  valueListSchema,
  type SubmitResponse,
  type ValueDetail,
  type ValueList,
} from '@fibstack/contract/values';
import { requestJson } from '../../lib/http';

export function submitIndex(index: number): Promise<SubmitResponse> {
  return requestJson('/api/values', submitResponseSchema, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ index }),
  });
}

export function listValues(cursor?: string): Promise<ValueList> {
  return requestJson(cursor ? `/api/values?cursor=${encodeURIComponent(cursor)}` : '/api/values', valueListSchema);
}

export function getValue(index: number): Promise<ValueDetail> {
  return requestJson(`/api/values/${index}`, valueDetailSchema);
}
