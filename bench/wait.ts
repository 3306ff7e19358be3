import { eventually } from '@fibstack/devstack/testkit';

/**
 * Every wait in the benchmark is bounded. A wait that runs out does not throw: it says so, and the phase
 * reports it as a result line ("timed out after … waiting for …"), so the benchmark always ends.
 */

export type Waited = { ok: true; ms: number } | { ok: false; ms: number; timedOut: string };

/**
 * Polls `check` every `intervalMs` until it returns true or `timeoutMs` have passed, and says how long
 * that took. A check that throws or hangs counts as "not yet" (each attempt is bounded by what is left).
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  { timeoutMs, intervalMs = 20, what }: { timeoutMs: number; intervalMs?: number; what: string },
): Promise<Waited> {
  const started = performance.now();
  try {
    await eventually(check, timeoutMs, what, { intervalMs });
    return { ok: true, ms: performance.now() - started };
  } catch (error) {
    return { ok: false, ms: performance.now() - started, timedOut: (error as Error).message };
  }
}
