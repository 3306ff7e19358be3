/**
 * Requests one API process has answered with `method`, `route` (the route pattern) and `status`, from its
 * own Prometheus metrics (the request duration histogram's count): what each replica served.
 */
export async function requestCount(serverUrl: string, method: string, route: string, status: number): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const series = `http_request_duration_seconds_count{method="${method}",route="${route}",status="${status}"}`;
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
