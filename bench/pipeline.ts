import { availableParallelism } from 'node:os';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { BenchStack } from './bench-stack.js';
import { machineLoad, perUnit, rssMb, startCpuMeasure, type CpuCounters } from './cpu.js';
import { eachOf, postIndexes } from './http-load.js';
import { median } from './stats.js';
import { serviceConnections, storeCostsPer, storeSnapshot } from './store-costs.js';
import { waitUntil } from './wait.js';

export interface PipelineOptions {
  submissions: number;
  runs: number;
  /** How long after the last answer every value must be stored; what is missing then counts as lost. */
  storeTimeoutMs: number;
  /** Submissions that warm the restarted server up before each run (see ResetOptions). */
  warmUpPosts: number;
  /** Event streams (`GET /api/events`) kept open and read during each run, as browsers watching would. */
  streams?: number;
}

export const PIPELINE_TARGET_JOBS_PER_SECOND = 2_000;

/**
 * End to end: `submissions` distinct indexes (0 … n-1, shuffled) POSTed over 50 connections until every
 * value is stored in Postgres, `runs` times from empty tables. Reports jobs/s, losses, and the CPU each
 * process spent per job (server, worker, Postgres, Redis, load generator). With `streams`, that many
 * event streams are open and read throughout, and each run also reports the result events they carried.
 */
export async function pipeline(bench: BenchStack, options: PipelineOptions) {
  const runs = [];
  for (let run = 1; run <= options.runs; run++) {
    const reset = await bench.reset({ warmUpPosts: options.warmUpPosts });
    const target = {
      url: bench.stack.url,
      pool: bench.pool,
      redis: bench.redis,
      cpu: bench.cpu,
      workerPid: () => bench.stack.pid('worker'),
    };
    runs.push({
      run,
      ...(await pipelineRun(target, options)),
      resetKilled: reset.killed,
      ...(reset.warmUp?.ok === false && { warmUp: reset.warmUp.timedOut }),
    });
  }
  return { runs, ...pipelineSummary(runs) };
}

/** What one pipeline run needs: where to submit, where the values land, and the CPU counters of every process. */
export interface PipelineTarget {
  url: string;
  pool: pg.Pool;
  cpu: CpuCounters;
  /** The worker's process, to sample its memory (undefined when it has none of its own to read). */
  workerPid?: () => number | undefined;
  /** Behind the edge: the client each POST names (it limits requests per client; see postIndexes). */
  nextClient?: () => string;
  /** The queue's Redis: with it, the run also reports what each job cost the stores (bench/store-costs.ts). */
  redis?: Redis;
}

/** One run from empty tables (the caller empties them): `submissions` distinct indexes until every value is stored. */
export async function pipelineRun(target: PipelineTarget, options: Omit<PipelineOptions, 'runs' | 'warmUpPosts'>) {
  const watchers = await Promise.all(Array.from({ length: options.streams ?? 0 }, () => watch(target.url)));
  const indexes = Array.from({ length: options.submissions }, (_, i) => (i * 7_919) % options.submissions);
  let workerRssMb = 0;
  const sampler = setInterval(() => (workerRssMb = Math.max(workerRssMb, rssMb(target.workerPid?.()))), 200);
  const storesBefore = target.redis && (await storeSnapshot(target.pool, target.redis));
  const stop = startCpuMeasure(target.cpu);
  const startedAt = Date.now();
  const submitted = await postIndexes(target.url, 50, { amount: indexes.length }, eachOf(indexes), target.nextClient);
  const submitMs = Date.now() - startedAt;
  // Polled slowly, so the polling costs Postgres little; the exact end comes from the rows themselves.
  const stored = await waitUntil(async () => (await count(target.pool, 'results')) >= options.submissions, {
    timeoutMs: options.storeTimeoutMs,
    intervalMs: 200,
    what: `${options.submissions} values to be stored`,
  });
  const cpu = stop();
  clearInterval(sampler);
  const stores = storesBefore && {
    ...storeCostsPer(storesBefore, await storeSnapshot(target.pool, target.redis!, { afterRun: true }), options.submissions),
    postgresConnections: await serviceConnections(target.pool),
  };
  for (const watcher of watchers) watcher.close();
  const { rows } = await target.pool.query<{ n: number; last: Date | null }>(
    'SELECT count(*)::int AS n, max(computed_at) AS last FROM results',
  );
  const allStoredMs = (rows[0]!.last?.getTime() ?? Date.now()) - startedAt;
  return {
    submissions: options.submissions,
    submitMs,
    allStoredMs,
    jobsPerSecond: Math.round(options.submissions / (allStoredMs / 1000)),
    rejected: submitted.non2xx + submitted.errors + submitted.timeouts,
    lost: options.submissions - rows[0]!.n,
    ...(stored.ok ? {} : { timedOut: stored.timedOut }),
    cpuUsPerJob: perUnit(cpu, options.submissions),
    workerRssMb,
    ...(stores && { stores }),
    ...(watchers.length > 0 && { eventsPerStream: median(watchers.map((watcher) => watcher.events())) }),
    load: machineLoad(),
  };
}

/** Medians over runs, and the rate the CPU per job allows on this machine's cores. */
export function pipelineSummary(runs: Array<{ jobsPerSecond: number; lost: number; cpuUsPerJob: Record<string, number> }>) {
  const cpuPerJob = median(runs.map((run) => run.cpuUsPerJob.total!));
  return {
    medianJobsPerSecond: median(runs.map((run) => run.jobsPerSecond)),
    // What the machine's cores could do if every one of their µs went to this pipeline: the ceiling the
    // CPU per job sets, which holds when the machine is shared (measured jobs/s do not).
    cpuBoundJobsPerSecond: Math.round((availableParallelism() * 1_000_000) / cpuPerJob),
    target: `≥ ${PIPELINE_TARGET_JOBS_PER_SECOND} jobs/s (median), lost 0`,
    lostTotal: runs.reduce((sum, run) => sum + run.lost, 0),
  };
}

/**
 * An open `GET /api/events` that counts the result events it carries. The load generator reads it, so its
 * CPU is counted as the load generator's, as a browser's would not be at all.
 */
async function watch(url: string): Promise<{ events: () => number; close: () => void }> {
  const controller = new AbortController();
  const response = await fetch(`${url}/api/events`, { signal: controller.signal });
  let events = 0;
  void (async () => {
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      events += chunk.value.split('event: result\n').length - 1;
    }
  })().catch(() => undefined);
  return { events: () => events, close: () => controller.abort() };
}

async function count(pool: pg.Pool, table: 'results' | 'submitted_indexes'): Promise<number> {
  return (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
}
