import { submitOnFreshConnection, type Outcome } from '@fibstack/devstack/testkit';

export interface LoadReport {
  outcomes: Map<number, Outcome>;
  accepted: number[];
  count(predicate: (outcome: Outcome) => boolean): number;
}

/**
 * Submits `indexes` with `concurrency` requests in flight until all are sent or `stop()` resolves;
 * bounded by the list, so it always ends.
 */
export async function runLoad(baseUrl: string, indexes: number[], concurrency: number, stop?: () => boolean): Promise<LoadReport> {
  const outcomes = new Map<number, Outcome>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < indexes.length && !stop?.()) {
        const index = indexes[next++]!;
        outcomes.set(index, await submitOnFreshConnection(baseUrl, index));
      }
    }),
  );
  const accepted = [...outcomes].filter(([, outcome]) => 'status' in outcome && outcome.status < 300).map(([index]) => index);
  return { outcomes, accepted, count: (predicate) => [...outcomes.values()].filter(predicate).length };
}
