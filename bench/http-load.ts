import autocannon from 'autocannon';

export interface LoadResult {
  connections: number;
  /** Requests answered. */
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

/** How long autocannon waits for one answer before it counts a timeout (the whole run is bounded too). */
const REQUEST_TIMEOUT_S = 10;

/**
 * POSTs `{"index": nextIndex()}` to /api/values over `connections` connections, for `duration` seconds
 * or until `amount` requests are answered. With `nextClient`, each POST names its client in
 * X-Forwarded-For, as a load balancer in front of the edge would (the edge limits requests per client).
 */
export async function postIndexes(
  url: string,
  connections: number,
  limit: { duration: number } | { amount: number },
  nextIndex: () => number,
  nextClient?: () => string,
): Promise<LoadResult> {
  const result = await autocannon({
    url: `${url}/api/values`,
    connections,
    ...limit,
    timeout: REQUEST_TIMEOUT_S,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => ({
          ...request,
          ...(nextClient && { headers: { ...request.headers, 'x-forwarded-for': nextClient() } }),
          body: JSON.stringify({ index: nextIndex() }),
        }),
      },
    ],
  });
  return summarize(result, connections);
}

/** The next index of a sequence no other phase uses, so no POST finds its index already stored or queued. */
export function indexesFrom(first: number): () => number {
  let next = first;
  return () => next++;
}

/** Each of `indexes` once, in order. */
export function eachOf(indexes: number[]): () => number {
  let next = 0;
  return () => indexes[next++]!;
}

/** GETs one path repeatedly for `seconds`. */
export async function getPath(url: string, path: string, connections: number, seconds: number): Promise<LoadResult> {
  return summarize(await autocannon({ url: `${url}${path}`, connections, duration: seconds, timeout: REQUEST_TIMEOUT_S }), connections);
}

function summarize(result: autocannon.Result, connections: number): LoadResult {
  return {
    connections,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}
