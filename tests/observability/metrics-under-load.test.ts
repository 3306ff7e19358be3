import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { sample } from '../../worker/src/testing/prometheus-text.js';
import { runLoad } from '../support/submission-load.js';
import { parsePromql, withoutGrafanaVariables } from '../support/promql.js';
import { deadline, eventually } from '@fibstack/devstack/testkit';
import { startObservedStack, type ObservedStack } from './observed-stack.js';

/**
 * The worker's and the server's metrics while the native stack takes a short burst of submissions:
 * scraped during the load, and once every value is stored, when the counters must match the jobs.
 */
const SMALL = Array.from({ length: 400 }, (_, i) => i); // computed in place
const LARGE = Array.from({ length: 100 }, (_, i) => 20_000 + i); // computed on the thread pool
let observed: ObservedStack;
let workerMetrics: string;
let pool: pg.Pool;

beforeAll(async () => {
  const healthPort = await freePort();
  workerMetrics = `http://127.0.0.1:${healthPort}/metrics`;
  observed = await startObservedStack({
    // One reconcile pass at start only: a pass during the load could re-add a job that finished between
    // its query and its look-up, and that job would rightly count twice.
    env: { LOG_LEVEL: 'warn', RECONCILE_INTERVAL_MS: '3600000' },
    serviceEnv: { worker: { HEALTH_PORT: String(healthPort) } },
  });
  pool = new pg.Pool({ connectionString: observed.stack.databaseUrl });
});

afterAll(async () => {
  await pool?.end();
  await observed?.stop();
});

const scrape = async (url: string) => {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
};

async function storedCount(): Promise<number> {
  return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM results')).rows[0]!.n;
}

describe('metrics under load', () => {
  it('counts every job once, by outcome and size, and the queue depth: every submission waits, then it only falls', async () => {
    const indexes = [...SMALL, ...LARGE];
    const depthOf = (text: string) =>
      ['waiting', 'active', 'delayed'].reduce((sum, state) => sum + sample(text, 'fibstack_queue_jobs', { state }), 0);
    // The load arrives while the worker is frozen (SIGSTOP: it takes no job, and nothing restarts it), so
    // the queue holds every job, and the API's gauge shows all of them.
    const workerPid = observed.stack.pid('worker')!;
    process.kill(workerPid, 'SIGSTOP');
    try {
      const { accepted } = await runLoad(observed.stack.url, indexes, 10);
      expect(accepted).toHaveLength(indexes.length);
      expect(depthOf(await scrape(`${observed.stack.serverUrl}/metrics`))).toBe(indexes.length);
    } finally {
      process.kill(workerPid, 'SIGCONT');
    }

    // Then the worker drains it, scraped as it goes: nothing is added meanwhile, so the depth never rises.
    const completedSeen: number[] = [];
    const depthSeen: number[] = [indexes.length];
    const drained = deadline(60_000);
    while ((completedSeen.at(-1) ?? 0) < indexes.length && !drained.passed()) {
      const text = await scrape(workerMetrics);
      completedSeen.push(sample(text, 'fibstack_worker_jobs_total', { outcome: 'completed' }));
      depthSeen.push(depthOf(text));
    }
    await eventually(async () => (await storedCount()) === indexes.length, 60_000, 'every value stored');

    // Scraped while the queue drained: the counter only grows, the depth only falls, to nothing.
    expect(completedSeen.length).toBeGreaterThan(0);
    expect(completedSeen).toEqual([...completedSeen].sort((a, b) => a - b));
    expect(depthSeen).toEqual([...depthSeen].sort((a, b) => b - a));
    expect(depthSeen.at(-1)).toBe(0);

    const worker = await scrape(workerMetrics);
    expect(sample(worker, 'fibstack_worker_jobs_total', { outcome: 'completed' })).toBe(indexes.length);
    expect(sample(worker, 'fibstack_worker_jobs_total', { outcome: 'failed' })).toBe(0);
    expect(sample(worker, 'fibstack_worker_jobs_total', { outcome: 'retried' })).toBe(0);
    const timed = (size: string) => sample(worker, 'fibstack_worker_job_duration_seconds_count', { size, outcome: 'completed' });
    expect(timed('0-1k')).toBe(SMALL.length);
    expect(timed('10k-100k')).toBe(LARGE.length);
    expect(sample(worker, 'fibstack_worker_compute_busy_seconds_total')).toBeGreaterThan(0);
    for (const state of ['waiting', 'active', 'delayed', 'failed']) expect(sample(worker, 'fibstack_queue_jobs', { state }), state).toBe(0);

    // The API measured each accepted submission from its 202 to its stored value once.
    const server = await scrape(`${observed.stack.serverUrl}/metrics`);
    expect(sample(server, 'fibstack_submit_to_stored_seconds_count')).toBe(indexes.length);
    expect(sample(server, 'fibstack_submit_to_stored_seconds_bucket', { le: '+Inf' })).toBe(indexes.length);
  });

  it('exposes every series the dashboard and the alerts query', async () => {
    const repoFile = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
    const dashboard = JSON.parse(repoFile('observability/grafana/dashboards/fibstack.json')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
    };
    const alerts = parse(repoFile('observability/prometheus/alerts.yml')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
    const queries = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
      ...alerts.groups.flatMap((group) => group.rules.map((rule) => rule.expr)),
    ];
    const queried = new Set(queries.flatMap((query) => parsePromql(withoutGrafanaVariables(query)).metrics));
    const exposed = `${await scrape(workerMetrics)}\n${await scrape(`${observed.stack.serverUrl}/metrics`)}`;
    const names = new Set(
      exposed
        .split('\n')
        .filter((line) => /^[a-z]/.test(line))
        .map((line) => /^[\w:]+/.exec(line)![0]),
    );
    expect([...queried].filter((metric) => !names.has(metric))).toEqual([]);
    expect(queried.size).toBeGreaterThan(5);
  });
});
