/**
 * Every wait in the benchmark is bounded. A wait that runs out does not throw: it says so, and the phase
 * reports it as a result line ("timed out after … waiting for …"), so the benchmark always ends.
 */

export type Waited = { ok: true; ms: number } | { ok: false; ms: number; timedOut: string };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

/**
 * Polls `check` every `intervalMs` until it returns true or `timeoutMs` have passed. A check that throws
 * or hangs counts as "not yet" (each attempt is bounded by what is left of the wait).
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  { timeoutMs, intervalMs = 20, what }: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<Waited> {
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  for (;;) {
    const left = timeoutMs - elapsed();
    const done = await within(Promise.resolve().then(check), Math.max(left, 1)).catch(() => false);
    if (done) return { ok: true, ms: elapsed() };
    if (elapsed() >= timeoutMs) return { ok: false, ms: elapsed(), timedOut: `timed out after ${timeoutMs} ms waiting for ${what}` };
    await sleep(intervalMs);
  }
}
