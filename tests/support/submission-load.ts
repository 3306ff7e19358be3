import { sleep, submitOnFreshConnection, type Outcome } from '@fibstack/devstack/testkit';

export interface LoadReport {
  outcomes: Map<number, Outcome>;
  /** When each request went out and when its outcome came (performance.now()). */
  times: Map<number, { sentAt: number; settledAt: number }>;
  accepted: number[];
  count(predicate: (outcome: Outcome) => boolean): number;
}

/**
 * Submits `indexes` with `concurrency` requests in flight until all are sent or `stop()` returns true;
 * bounded by the list, so it always ends. A request whose connection failed (refused, reset) is followed
 * by a 10 ms pause, as a client would wait.
 */
export async function runLoad(baseUrl: string, indexes: number[], concurrency: number, stop?: () => boolean): Promise<LoadReport> {
  const outcomes = new Map<number, Outcome>();
  const times = new Map<number, { sentAt: number; settledAt: number }>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < indexes.length && !stop?.()) {
        const index = indexes[next++]!;
        const sentAt = performance.now();
        const outcome = await submitOnFreshConnection(baseUrl, index);
        outcomes.set(index, outcome);
        times.set(index, { sentAt, settledAt: performance.now() });
        // As a client does, it waits a moment before trying again after its connection failed.
        if ('error' in outcome) await sleep(10);
      }
    }),
  );
  const accepted = [...outcomes].filter(([, outcome]) => 'status' in outcome && outcome.status < 300).map(([index]) => index);
  return { outcomes, times, accepted, count: (predicate) => [...outcomes.values()].filter(predicate).length };
}
