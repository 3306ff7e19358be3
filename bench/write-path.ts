import { join } from 'node:path';
import type { BenchStack } from './bench-stack.js';
import { machineLoad, ownCpuUs, perUnit, processCpuUs, rssMb, startCpuMeasure, type CpuCounters } from './cpu.js';
import { postIndexes, type LoadResult } from './http-load.js';
import { startChildServer } from './servers.js';
import { median, round } from './stats.js';
import { redisCounters } from './store-costs.js';

export interface WritePathOptions {
  seconds: number;
  /** Rounds of the 10- and 50-connection runs (the 1-connection run is done once). */
  rounds: number;
  logDir: string;
  nextIndex: () => number;
}

interface Run extends LoadResult {
  round: number;
  app: 'bare express' | 'fibstack';
  /** CPU µs per answered POST, by process. */
  cpuUsPerPost: Record<string, number>;
  /** Redis memory each accepted POST's job holds while it waits (the worker is stopped): fibstack only. */
  redisBytesPerQueuedJob?: number;
  load: string;
}

/** Targets of issue 14: throughput ratio at 50 connections, p99 at 10 connections. */
export const WRITE_PATH_TARGETS = { ratioAt50: 0.6, p99At10Ms: 25 };

/**
 * POST /api/values throughput, latency and CPU per POST against the bare-Express ceiling (express.json
 * + res.json, storing nothing), with the worker stopped so only the write path runs. The two are
 * measured in turn within each round, so both see the same machine.
 */
export async function writePath(bench: BenchStack, options: WritePathOptions) {
  const bare = await startChildServer('./bare-express.ts', {}, join(options.logDir, 'bare-express.log'));
  const runs: Run[] = [];
  let serverRssMb = 0;
  const measure = async (round: number, app: Run['app'], connections: number) => {
    const url = app === 'bare express' ? bare.url : bench.stack.url;
    const counters: CpuCounters =
      app === 'bare express'
        ? { server: () => processCpuUs(bare.pid), 'load generator': ownCpuUs }
        : { server: bench.cpu.server!, postgres: bench.cpu.postgres!, redis: bench.cpu.redis!, 'load generator': ownCpuUs };
    const rss = app === 'fibstack' ? sampleRss(bench.stack.pid('server'), (options.seconds * 1000) / 2) : undefined;
    const redisBefore = app === 'fibstack' ? await redisCounters(bench.redis) : undefined;
    const stop = startCpuMeasure(counters);
    const result = await postIndexes(url, connections, { duration: options.seconds }, options.nextIndex);
    const cpuUsPerPost = perUnit(stop(), Math.max(result.requests, 1));
    const queued = result.requests - result.non2xx;
    const redisBytesPerQueuedJob =
      redisBefore && Math.round(((await redisCounters(bench.redis)).redisUsedBytes - redisBefore.redisUsedBytes) / Math.max(queued, 1));
    runs.push({
      round,
      app,
      ...result,
      cpuUsPerPost,
      ...(redisBytesPerQueuedJob !== undefined && { redisBytesPerQueuedJob }),
      load: machineLoad(),
    });
    if (rss) serverRssMb = Math.max(serverRssMb, await rss);
  };
  try {
    // Warm both up (JIT, connection pools, prepared statements) before anything is measured.
    for (const url of [bare.url, bench.stack.url])
      await postIndexes(url, 10, { duration: Math.min(options.seconds, 2) }, options.nextIndex);
    for (let round = 1; round <= options.rounds; round++) {
      for (const connections of round === 1 ? [1, 10, 50] : [10, 50]) {
        await measure(round, 'bare express', connections);
        await measure(round, 'fibstack', connections);
      }
    }
  } finally {
    await bare.stop();
  }
  return { runs, summary: summarize(runs), serverRssUnderLoadMb: serverRssMb };
}

function summarize(runs: Run[]) {
  const pick = (app: Run['app'], connections: number) => runs.filter((run) => run.app === app && run.connections === connections);
  const ratios = (connections: number) =>
    pick('fibstack', connections).map((ours) => {
      const ceiling = pick('bare express', connections).find((run) => run.round === ours.round)!;
      return round(ours.requestsPerSecond / ceiling.requestsPerSecond);
    });
  const p99At10 = pick('fibstack', 10).map((run) => run.p99Ms);
  const ratiosAt50 = ratios(50);
  return {
    ratioAt50ByRound: ratiosAt50,
    ratioAt50Median: median(ratiosAt50),
    ratioAt50Met: `${ratiosAt50.filter((ratio) => ratio >= WRITE_PATH_TARGETS.ratioAt50).length} of ${ratiosAt50.length} rounds`,
    ratioAt10ByRound: ratios(10),
    ratioAt1: ratios(1)[0],
    p99At10MsByRound: p99At10,
    p99At10Met: `${p99At10.filter((p99) => p99 < WRITE_PATH_TARGETS.p99At10Ms).length} of ${p99At10.length} rounds`,
    serverCpuUsPerPostAt50: median(pick('fibstack', 50).map((run) => run.cpuUsPerPost.server!)),
    bareCpuUsPerPostAt50: median(pick('bare express', 50).map((run) => run.cpuUsPerPost.server!)),
    // What the throughput ratio is when each server has a core to itself (a quiet 2-core machine): the
    // ratio of their CPU per POST. It holds when the machine is shared, where throughput does not.
    cpuRatioAt50: round(
      median(pick('bare express', 50).map((run) => run.cpuUsPerPost.server!)) /
        median(pick('fibstack', 50).map((run) => run.cpuUsPerPost.server!)),
    ),
    systemCpuUsPerPostAt50: median(pick('fibstack', 50).map((run) => run.cpuUsPerPost.total!)),
    redisBytesPerQueuedJob: median(pick('fibstack', 50).map((run) => run.redisBytesPerQueuedJob!)),
  };
}

/** The server's resident memory `afterMs` into a run. */
function sampleRss(pid: number | undefined, afterMs: number): Promise<number> {
  return new Promise((resolve) => setTimeout(() => resolve(rssMb(pid)), afterMs));
}
