import autocannon from 'autocannon';

export interface LoadResult {
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** POSTs `{"index": nextIndex()}` to /api/values, for as long (`duration`, s) or as many times (`amount`) as asked. */
async function postIndexSequence(
  url: string,
  connections: number,
  limit: { duration: number } | { amount: number },
  nextIndex: () => number,
): Promise<LoadResult> {
  const result = await autocannon({
    url: `${url}/api/values`,
    connections,
    ...limit,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ index: nextIndex() }) }) }],
  });
  return summarize(result, connections);
}

/** POSTs `{"index": n}` with a new n for each request (wrapping at `maxIndex`), for `seconds`. */
export function postIndexes(url: string, connections: number, seconds: number, firstIndex: number, maxIndex: number): Promise<LoadResult> {
  let next = firstIndex;
  return postIndexSequence(url, connections, { duration: seconds }, () => next++ % (maxIndex + 1));
}

/** POSTs each of `indexes` once, in order, over `connections` connections; resolves when all are answered. */
export function postEach(url: string, connections: number, indexes: number[]): Promise<LoadResult> {
  let next = 0;
  return postIndexSequence(url, connections, { amount: indexes.length }, () => indexes[next++]!);
}

/** GETs one path repeatedly for `seconds`. */
export async function getPath(url: string, path: string, connections: number, seconds: number): Promise<LoadResult> {
  return summarize(await autocannon({ url: `${url}${path}`, connections, duration: seconds }), connections);
}

function summarize(result: autocannon.Result, connections: number): LoadResult {
  return {
    connections,
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}
