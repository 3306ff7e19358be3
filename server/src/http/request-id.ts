import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The caller's X-Request-Id when it is safe to log (the edge nginx sets one), otherwise a new UUID.
 * Echoed in the response so a user can quote it; also travels into the job for the worker's log line.
 */
function requestIdFor(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/** Gives every request its id (`req.id`, see requestIdFor). */
export const requestId: RequestHandler = (req, res, next) => {
  req.id = requestIdFor(req, res);
  next();
};
