import type { Request } from 'express';
import { HttpError } from '../http/errors.js';

/** A result id as the streams send it: a whole number without leading zeros, small enough to be exact. */
const RESULT_ID = /^(0|[1-9]\d{0,15})$/;

/**
 * Where a stream resumes: after the `Last-Event-ID` header (sent by EventSource when it reconnects by
 * itself) or the `lastEventId` query parameter (the client's own new EventSource, which cannot set
 * headers). The browser reconnects to the same URL, query included, and its header then holds the newer
 * id, so the header wins. Absent or empty: a new stream, with nothing to resume. Anything else: 400.
 */
export function lastEventIdOf(req: Request): number | undefined {
  const header = req.get('last-event-id');
  const raw: unknown = header ? header : req.query.lastEventId;
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !RESULT_ID.test(raw) || !Number.isSafeInteger(Number(raw))) {
    const shown = typeof raw === 'string' ? JSON.stringify(raw.slice(0, 40)) : 'a repeated parameter';
    throw new HttpError('invalid_last_event_id', `Last-Event-ID must be the id of an event this API sent, got ${shown}`);
  }
  return Number(raw);
}
