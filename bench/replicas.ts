import { availableParallelism } from 'node:os';
import { SERVER_REPLICA_ADDRESSES } from '@fibstack/devstack/stack';
import { sleep } from '@fibstack/devstack/testkit';
import { hasNginx, startEdgeByName, type EdgeByName } from '../tests/support/nginx.js';
import type { BenchStack } from './bench-stack.js';
import { machineLoad, nginxPids, perUnit, processCpuUs, startCpuMeasure, type CpuCounters } from './cpu.js';
import { postIndexes } from './http-load.js';
import { pipelineRun } from './pipeline.js';
import { median } from './stats.js';

export interface ReplicaOptions {
  /** Seconds of POSTs per write-path measurement. */
  writeSeconds: number;
  /** Rounds; in each, 1 and then 2 replicas are measured, the write path and then the pipeline. */
  rounds: number;
  /** Submissions per pipeline run. */
  submissions: number;
  /** POSTs through the edge that warm both servers up after each reset (see ResetOptions). */
  warmUpPosts: number;
  nextIndex: () => number;
}

/** The servers' name, as a container platform's DNS answers it with every replica's address. */
const UPSTREAM = 'api.fibstack.bench';
const MAX_REPLICAS = 2;

/** Clients the POSTs are spread over (X-Forwarded-For), so the edge's per-client rate never bites. */
function clients(): () => string {
  let next = 0;
  return () => `192.0.2.${(next++ % 250) + 1}`;
}

interface Edge extends EdgeByName {
  cpu: CpuCounters;
}

/** The shipped edge in front of the servers, which it finds by name; its CPU counted with every process's. */
async function startEdge(bench: BenchStack): Promise<Edge> {
  const edge = await startEdgeByName({
    name: UPSTREAM,
    addresses: SERVER_REPLICA_ADDRESSES(MAX_REPLICAS),
    serverPort: new URL(bench.stack.serverUrl).port,
    realIpFrom: '127.0.0.1',
  });
  return { ...edge, cpu: { edge: () => nginxPids(edge.nginx.process.pid!).reduce((sum, pid) => sum + processCpuUs(pid), 0) } };
}

/**
 * Serves `replicas` servers and `workers` workers from empty stores, by the bench's reset (every
 * process stopped once what it holds is done, the data emptied, the servers restarted and warmed up
 * through the edge, both of them); then the edge's name resolves to `replicas` servers only (the other
 * stays up, idle and warm).
 */
async function serve(
  bench: BenchStack,
  edge: Edge,
  options: ReplicaOptions & { nextClient: () => string },
  replicas: number,
  workers: number,
) {
  edge.dns.set(UPSTREAM, SERVER_REPLICA_ADDRESSES(MAX_REPLICAS));
  const reset = await bench.reset({ warmUpPosts: options.warmUpPosts, workers, via: { url: edge.url, nextClient: options.nextClient } });
  edge.dns.set(UPSTREAM, SERVER_REPLICA_ADDRESSES(MAX_REPLICAS).slice(0, replicas));
  // nginx caches the name's addresses for 1 s (`valid=1s`): let the old answer expire.
  await sleep(1_500);
  return { resetKilled: reset.killed, ...(reset.warmUp?.ok === false && { warmUp: reset.warmUp.timedOut }) };
}

/**
 * The write path and the pipeline through the edge with one and with two servers and workers
 * (`bench` started with two replicas of each), measured in turn within each round, so both see the same
 * machine. On two cores, two replicas cannot go faster than one: what scaling out costs shows in the
 * CPU per request and per job (the edge's share, each process's fixed costs spread over less work), and
 * the rate one core allows is 1,000,000 ÷ that CPU.
 */
export async function replicaScaling(bench: BenchStack, options: ReplicaOptions) {
  if (!hasNginx()) return { skipped: 'nginx is not on PATH' };
  const edge = await startEdge(bench);
  const cpu = { ...bench.cpu, ...edge.cpu };
  // The write path runs with every worker stopped: a stopped process has no CPU counter to read.
  const postCpu = Object.fromEntries(Object.entries(cpu).filter(([name]) => name !== 'worker'));
  const nextClient = clients();
  const setting = { ...options, nextClient };
  try {
    const writePath: Array<{
      round: number;
      replicas: number;
      requestsPerSecond: number;
      p99Ms: number;
      failed: number;
      cpuUsPerPost: Record<string, number>;
      load: string;
    }> = [];
    const pipelines: Array<{ round: number; replicas: number } & Awaited<ReturnType<typeof pipelineRun>>> = [];
    for (let round = 1; round <= options.rounds; round++) {
      for (const replicas of [1, 2]) {
        const reset = await serve(bench, edge, setting, replicas, 0);
        const stop = startCpuMeasure(postCpu);
        const load = await postIndexes(edge.url, 50, { duration: options.writeSeconds }, options.nextIndex, nextClient);
        const answered = load.requests - load.non2xx;
        writePath.push({
          round,
          replicas,
          requestsPerSecond: load.requestsPerSecond,
          p99Ms: load.p99Ms,
          failed: load.non2xx + load.errors + load.timeouts,
          cpuUsPerPost: perUnit(stop(), Math.max(answered, 1)),
          ...reset,
          load: machineLoad(),
        });
      }
      for (const replicas of [1, 2]) {
        const reset = await serve(bench, edge, setting, replicas, replicas);
        const target = { url: edge.url, pool: bench.pool, cpu, nextClient, workerPid: () => bench.stack.pid('worker') };
        const run = await pipelineRun(target, { submissions: options.submissions, storeTimeoutMs: 60_000 });
        pipelines.push({ round, replicas, ...run, ...reset });
      }
    }
    const summary = (replicas: number) => {
      const posts = writePath.filter((row) => row.replicas === replicas);
      const jobs = pipelines.filter((row) => row.replicas === replicas);
      const perPost = (process: string) => median(posts.map((row) => row.cpuUsPerPost[process]!));
      const perJob = (process: string) => median(jobs.map((row) => row.cpuUsPerJob[process]!));
      return {
        replicas,
        postsPerSecond: median(posts.map((row) => row.requestsPerSecond)),
        failedPosts: posts.reduce((sum, row) => sum + row.failed, 0),
        cpuUsPerPost: perPost('total'),
        serverCpuUsPerPost: perPost('server'),
        edgeCpuUsPerPost: perPost('edge'),
        postsPerCoreSecond: Math.round(1_000_000 / perPost('total')),
        jobsPerSecond: median(jobs.map((row) => row.jobsPerSecond)),
        lost: jobs.reduce((sum, row) => sum + row.lost, 0),
        cpuUsPerJob: perJob('total'),
        serverCpuUsPerJob: perJob('server'),
        workerCpuUsPerJob: perJob('worker'),
        edgeCpuUsPerJob: perJob('edge'),
        jobsPerCoreSecond: Math.round(1_000_000 / perJob('total')),
      };
    };
    return { cores: availableParallelism(), table: [summary(1), summary(2)], writePath, pipelines };
  } finally {
    await edge.stop();
  }
}
