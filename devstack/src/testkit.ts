import { request } from 'node:http';

/**
 * The waits and requests the tests and the benchmark share. Every wait here is bounded: a check that
 * never passes ends in an error that says what was awaited and what last went wrong, never in a hang.
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A point in time `ms` from now, to bound a sequence of steps by one budget. */
export function deadline(ms: number) {
  const end = performance.now() + ms;
  return {
    /** Milliseconds still left, never below 0. */
    left: () => Math.max(end - performance.now(), 0),
    passed: () => performance.now() >= end,
  };
}

/** Settles like `promise`, or resolves to `undefined` once `ms` have passed. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PollOptions {
  /** Pause between attempts (default 50 ms). */
  intervalMs?: number;
  /** Longest one attempt may take (default: what is left of the wait): a proxy may accept and never answer. */
  attemptMs?: number;
}

/**
 * Polls `check` until it returns true, for at most `timeoutMs`. A check that throws or hangs counts as
 * "not yet"; if the wait runs out, the error names `what` and the last error a check threw, which is
 * usually the reason.
 */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
  { intervalMs = 50, attemptMs = Infinity }: PollOptions = {},
): Promise<void> {
  const wait = deadline(timeoutMs);
  let lastError: unknown;
  for (;;) {
    try {
      const attempt = Promise.resolve().then(check);
      attempt.catch(() => undefined); // an attempt given up on may still reject later
      if (await within(attempt, Math.max(Math.min(attemptMs, wait.left()), 1))) return;
    } catch (error) {
      lastError = error;
    }
    if (wait.passed()) {
      const reason =
        lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${reason}`);
    }
    await sleep(intervalMs);
  }
}

function postIndex(baseUrl: string, index: number, headers: Record<string, string>): Promise<Response> {
  return fetch(`${baseUrl}/api/values`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ index }),
  });
}

/** POSTs `{"index": index}` to the API at `baseUrl` as a browser would; returns the status. */
export async function submitIndex(baseUrl: string, index: number, headers: Record<string, string> = {}): Promise<number> {
  const response = await postIndex(baseUrl, index, headers);
  await response.body?.cancel();
  return response.status;
}

/**
 * POSTs `{"index": index}` like `submitIndex`, and returns the body with the status, so that a test
 * refusing an answer can say what the answer was (the API's JSON error, or the edge's own).
 */
export async function submitReadingAnswer(
  baseUrl: string,
  index: number,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  const response = await postIndex(baseUrl, index, headers);
  return { status: response.status, body: await response.text() };
}

export type Outcome = { status: number } | { error: string };

/**
 * One POST /api/values on a connection of its own (no keep-alive), as a client a balancer just sent here
 * would make, so a refused or reset connection shows as `{ error: code }` instead of a retry.
 */
export function submitOnFreshConnection(baseUrl: string, index: number, headers: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ index });
    const req = request(
      `${baseUrl}/api/values`,
      {
        method: 'POST',
        agent: false,
        headers: { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('ETIMEDOUT')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    req.end(body);
  });
}
