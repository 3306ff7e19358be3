import { Router } from 'express';
import type { Queue } from 'bullmq';
import type { JobData } from '@fibstack/contract/jobs';
import {
  checkIndex,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  previewOf,
  type SubmitResponse,
  type ValueDetail,
  type ValueList,
  type ValueListItem,
} from '@fibstack/contract/values';
import { HttpError } from '../http/errors.js';
import { jsonBody } from '../http/json-body.js';
import { sendJson } from '../http/json-response.js';
import { FibonacciEnqueuer } from './enqueue.js';
import type { IndexRow, ValuesStore } from './store.js';

/** What the values routes need: the SQL store, the queue and the configured MAX_INDEX. */
export interface ValuesRoutesDeps {
  store: ValuesStore;
  queue: Queue<JobData>;
  maxIndex: number;
}

const CURSOR = /^[1-9]\d{0,17}$/;
/** The list and a pending value change at any moment: no cache keeps them. */
const UNCACHEABLE = 'no-store';
/** A computed value is F(n), the same forever: any cache may keep it, and need not ask again. */
const FOREVER = 'public, max-age=31536000, immutable';
const INDEX_PARAM = /^\d{1,9}$/;

function toListItem(row: IndexRow): ValueListItem {
  const base = {
    index: row.index,
    submissions: Number(row.submissions),
    firstSubmittedAt: row.firstSubmittedAt.toISOString(),
    lastSubmittedAt: row.lastSubmittedAt.toISOString(),
    lastSubmissionId: row.lastSubmissionId,
  };
  if (row.valueHead === null || row.digits === null) return { ...base, status: 'pending' };
  return { ...base, status: 'done', digits: row.digits, ...previewOf(row.valueHead) };
}

function pageSize(raw: unknown): number {
  if (raw === undefined) return DEFAULT_PAGE_SIZE;
  const size = typeof raw === 'string' && /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
  if (!(size >= 1 && size <= MAX_PAGE_SIZE)) {
    throw new HttpError('invalid_query', `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return size;
}

function cursorOf(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !CURSOR.test(raw)) {
    throw new HttpError('invalid_query', 'cursor must be the nextCursor of a previous page');
  }
  return raw;
}

/** `/api/values`: submit an index, list the submitted indexes, read one value whole. Mount at the root. */
export function valuesRoutes({ store, queue, maxIndex }: ValuesRoutesDeps): Router {
  const router = Router();
  const jobs = new FibonacciEnqueuer(queue);

  router.post('/api/values', jsonBody, async (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new HttpError('body_not_object', 'send a JSON object such as {"index": 10}');
    }
    const checked = checkIndex((body as { index?: unknown }).index, maxIndex);
    if (!checked.ok) throw new HttpError(checked.code, checked.message);

    // Committed before we answer: from here on the submission survives a Redis outage.
    const { submissionId, known } = await store.submit(checked.index);
    if (known) {
      const answer: SubmitResponse = {
        index: checked.index,
        status: 'done',
        submissionId,
        digits: known.digits,
        ...previewOf(known.value),
      };
      return sendJson(res, 200, answer);
    }
    const job = await jobs.enqueue({ index: checked.index, requestId: req.id });
    // The request's logger is made only now, for the rare request that has something to report.
    if (!job.queued) req.log.warn({ err: job.error, index: checked.index }, 'could not queue the job now; the reconciler will');
    const answer: SubmitResponse = { index: checked.index, status: 'pending', submissionId };
    sendJson(res, 202, answer);
  });

  router.get('/api/values', async (req, res) => {
    const limit = pageSize(req.query.limit);
    // One row more than asked tells whether another page exists, so the last page has no cursor.
    const rows = await store.listIndexes(limit + 1, cursorOf(req.query.cursor));
    const items = rows.slice(0, limit).map(toListItem);
    const page: ValueList = { items, nextCursor: rows.length > limit ? items[items.length - 1]!.lastSubmissionId : null };
    res.setHeader('Cache-Control', UNCACHEABLE);
    res.json(page);
  });

  router.get('/api/values/:index', async (req, res) => {
    const raw = req.params.index;
    const index = INDEX_PARAM.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(index)) throw new HttpError('not_found', `no value for index ${JSON.stringify(raw.slice(0, 40))}`);
    const found = await store.findValue(index);
    if (found === 'unknown') throw new HttpError('not_found', `index ${index} has not been submitted`);
    const detail: ValueDetail =
      found === 'pending'
        ? { index, status: 'pending' }
        : {
            index,
            status: 'done',
            value: found.value,
            digits: found.digits,
            computedAt: found.computedAt.toISOString(),
            computeMs: found.computeMs,
          };
    res.setHeader('Cache-Control', detail.status === 'done' ? FOREVER : UNCACHEABLE);
    res.json(detail);
  });

  return router;
}
