import autocannon from 'autocannon';

export interface LoadResult {
  connections: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

/** POSTs `{"index": n}` with a new n for each request (wrapping at `maxIndex`), for `seconds`. */
export async function postIndexes(url: string, connections: number, seconds: number, firstIndex: number, maxIndex: number): Promise<LoadResult> {
  let next = firstIndex;
  const result = await autocannon({
    url: `${url}/api/values`,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ index: next++ % (maxIndex + 1) }) }) }],
  });
  return summarize(result, connections);
}

/** POSTs each of `indexes` once, in order, over `connections` connections; resolves when all are answered. */
export async function postEach(url: string, connections: number, indexes: number[]): Promise<LoadResult> {
  let next = 0;
  const result = await autocannon({
    url: `${url}/api/values`,
    connections,
    amount: indexes.length,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ index: indexes[next++] }) }) }],
  });
  return summarize(result, connections);
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
