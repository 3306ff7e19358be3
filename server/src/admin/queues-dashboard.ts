import { timingSafeEqual } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import { HttpError } from '../http/errors.js';

/** Where the dashboard lives; the edge nginx refuses this path, so only operators inside reach it. */
const QUEUES_DASHBOARD_PATH = '/admin/queues';

export interface Credentials {
  username: string;
  password: string;
}

/** Compares in constant time, so the response time does not reveal how much of a guess was right. */
function same(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** HTTP basic auth against one set of credentials; a wrong or missing one gets 401 with a challenge. */
function basicAuth({ username, password }: Credentials): RequestHandler {
  return (req, res, next) => {
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const decoded = scheme?.toLowerCase() === 'basic' && encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const separator = decoded.indexOf(':');
    // Both compared always, so a right user name with a wrong password takes as long as anything else.
    const userOk = same(decoded.slice(0, Math.max(separator, 0)), username);
    const passwordOk = same(decoded.slice(separator + 1), password);
    if (separator >= 0 && userOk && passwordOk) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="fibstack queues", charset="UTF-8"');
    throw new HttpError('unauthorized', 'the queue dashboard needs the operator credentials');
  };
}

/** bull-board's router for `queue`, loaded on first use: its modules cost every server ~23 MB of memory. */
async function loadBoard(queue: Queue): Promise<RequestHandler> {
  const [{ createBullBoard }, { BullMQAdapter }, { ExpressAdapter }] = await Promise.all([
    import('@bull-board/api'),
    import('@bull-board/api/bullMQAdapter'),
    import('@bull-board/express'),
  ]);
  const adapter = new ExpressAdapter().setBasePath(QUEUES_DASHBOARD_PATH);
  createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter: adapter });
  return adapter.getRouter() as RequestHandler;
}

/**
 * bull-board for the Fibonacci queue: jobs by state, their data, failures with stack traces, and
 * retry/clean actions. Mount it at QUEUES_DASHBOARD_PATH, only when BULL_BOARD_ENABLED is true.
 */
export function queuesDashboard(queue: Queue, credentials: Credentials): Router {
  let board: Promise<RequestHandler> | undefined;
  const router = Router();
  router.use(QUEUES_DASHBOARD_PATH, basicAuth(credentials), (req, res, next) => {
    board ??= loadBoard(queue);
    board.then((handler) => handler(req, res, next), next);
  });
  return router;
}
