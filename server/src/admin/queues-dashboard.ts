import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Router, type RequestHandler } from 'express';
import { HttpError } from '../http/errors.js';
import { SignInThrottle } from './sign-in-throttle.js';

/** Where the dashboard lives; the edge nginx refuses this path, so only operators inside reach it. */
const QUEUES_DASHBOARD_PATH = '/admin/queues';

/** Wrong credentials an address may send before it must wait: ample for typos, few for a guesser. */
const FAILED_SIGN_INS_ALLOWED = 10;
const FAILED_SIGN_INS_WINDOW_MS = 15 * 60_000;

export interface Credentials {
  username: string;
  password: string;
}

/**
 * A comparer of guesses against `expected` that reveals, by its timing, neither how much of a guess was
 * right nor the expected value's length: both sides are compared as HMACs of one length, under a key of
 * this process's own (so the digests themselves are nothing to precompute against).
 */
export function secretComparer(expected: string): (given: string) => boolean {
  const key = randomBytes(32);
  const digest = (value: string) => createHmac('sha256', key).update(value, 'utf8').digest();
  const expectedDigest = digest(expected);
  return (given) => timingSafeEqual(digest(given), expectedDigest);
}

/**
 * HTTP basic auth against one set of credentials: a wrong or missing one gets 401 with a challenge, and
 * an address that sent wrong ones too often gets 429 with Retry-After, whatever it sends, until its
 * window ends. A request with no credentials (a browser's first, to get the challenge) is no attempt.
 */
function basicAuth({ username, password }: Credentials, throttle: SignInThrottle): RequestHandler {
  const sameUser = secretComparer(username);
  const samePassword = secretComparer(password);
  return (req, res, next) => {
    const address = req.ip ?? 'unknown';
    const wait = throttle.secondsToWait(address);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      throw new HttpError('rate_limited', `too many failed sign-ins to the queue dashboard from this address; try again in ${wait} s`);
    }
    const [scheme, encoded] = (req.headers.authorization ?? '').split(' ');
    const decoded = scheme?.toLowerCase() === 'basic' && encoded ? Buffer.from(encoded, 'base64').toString('utf8') : '';
    const separator = decoded.indexOf(':');
    // Both compared always, so a right user name with a wrong password takes as long as anything else.
    const userOk = sameUser(decoded.slice(0, Math.max(separator, 0)));
    const passwordOk = samePassword(decoded.slice(separator + 1));
    if (separator >= 0 && userOk && passwordOk) return next();
    if (req.headers.authorization !== undefined) throttle.failed(address);
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
  const throttle = new SignInThrottle(FAILED_SIGN_INS_ALLOWED, FAILED_SIGN_INS_WINDOW_MS);
  const router = Router();
  router.use(QUEUES_DASHBOARD_PATH, basicAuth(credentials, throttle), (req, res, next) => {
    board ??= loadBoard(queue);
    board.then((handler) => handler(req, res, next), next);
  });
  return router;
}
