import { request } from 'node:http';

export type Outcome = { status: number } | { error: string };

/** One POST /api/values on a fresh connection (no keep-alive), so a refused connection is visible. */
export function submitOnce(baseUrl: string, index: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ index });
    const req = request(
      `${baseUrl}/api/values`,
      { method: 'POST', agent: false, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } },
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
        outcomes.set(index, await submitOnce(baseUrl, index));
      }
    }),
  );
  const accepted = [...outcomes].filter(([, outcome]) => 'status' in outcome && outcome.status < 300).map(([index]) => index);
  return { outcomes, accepted, count: (predicate) => [...outcomes.values()].filter(predicate).length };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
