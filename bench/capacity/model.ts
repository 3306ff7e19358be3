import { z } from 'zod';
import { storedBytesUpTo } from '@fibstack/service-kit/storage-budget';
import { median } from '../stats.js';

/**
 * The capacity model (docs/capacity.md): from the unit costs `npm run bench` measures
 * (bench/results/latest.json), what a sustained rate of submissions needs. Pure: the manifests' pod
 * shapes come in as `Sizing` (bench/capacity/sizing.ts reads them), so a test can recompute every figure.
 *
 * The rate is of submissions that each queue a job (a new index): the most work a submission causes.
 * A submission of an index already stored costs the API and Postgres alone.
 */

/** The rates the page answers for. */
export const TARGET_RATES = [1_000, 10_000] as const;
/** The rate the base manifests' autoscaler bounds are sized for: the pipeline's own target on one 2-core machine. */
export const BASE_TARGET_RATE = 2_000;
/** The bounds are the pods the base target needs × this, so a bench run on a busier machine (costs up to 1.5×) still fits. */
export const HEADROOM = 1.5;
/** A bound more than this × what the target needs is oversized: the costs fell, and the bounds should follow. */
export const OVERSIZE = 2;
/** Share of a Postgres instance's vCPUs, and of a Redis shard's one main thread, the load may take: the rest absorbs bursts and failovers. */
const STORE_CPU_TARGET = 0.5;
/** The queue holds this long of submissions with every worker down (a bad deploy rolled back) before Redis runs out of memory. */
export const BACKLOG_SECONDS = 600;
/** Postgres connections kept for superusers and operators (as tests/k8s/connection-budget.ts). */
const RESERVE_CONNECTIONS = 10;
/** EBS counts sequential I/O of up to 256 KiB as one operation; Postgres writes data pages of 8 KiB. */
const EBS_IO_BYTES = 256 * 1024;
const PAGE_BYTES = 8 * 1024;
const GIB = 1024 ** 3;

/** RDS for PostgreSQL, general purpose (Graviton): vCPUs and memory. max_connections defaults to memory ÷ 9,531,392 bytes, at most 5,000. */
const POSTGRES_CLASSES = [
  { name: 'db.m7g.large', vcpus: 2, memoryGib: 8 },
  { name: 'db.m7g.xlarge', vcpus: 4, memoryGib: 16 },
  { name: 'db.m7g.2xlarge', vcpus: 8, memoryGib: 32 },
  { name: 'db.m7g.4xlarge', vcpus: 16, memoryGib: 64 },
  { name: 'db.m7g.8xlarge', vcpus: 32, memoryGib: 128 },
  { name: 'db.m7g.16xlarge', vcpus: 64, memoryGib: 256 },
];
/** ElastiCache for Redis OSS / Valkey node types (Graviton): memory a node offers. */
const REDIS_NODE_TYPES = [
  { name: 'cache.m7g.large', memoryGib: 6.38 },
  { name: 'cache.m7g.xlarge', memoryGib: 12.93 },
  { name: 'cache.m7g.2xlarge', memoryGib: 26.32 },
  { name: 'cache.m7g.4xlarge', memoryGib: 52.82 },
  { name: 'cache.m7g.8xlarge', memoryGib: 103.68 },
];

/** What the HorizontalPodAutoscaler keeps a pod at, and its connection pool: the pod shape the model counts in. */
export interface PodShape {
  /** requests.cpu, cores. */
  cpuRequestCores: number;
  /** The HPA's averageUtilization, 0–1 (of the request). */
  targetUtilization: number;
  pgPoolMax: number;
  minReplicas: number;
}

export interface Sizing {
  server: PodShape;
  worker: PodShape;
  /** The server's MAX_INDEX default: the tables hold one row per index, so at most MAX_INDEX + 1 of each. */
  maxIndex: number;
  /** The worker's RETENTION_DAYS default. */
  retentionDays: number;
}

const cpu = z.record(z.string(), z.number());
const run = z.object({
  jobsPerSecond: z.number(),
  cpuUsPerJob: cpu,
  stores: z.object({
    submittedIndexesBytesPerSubmission: z.number(),
    resultsBytesPerResult: z.number(),
    walBytesPerJob: z.number(),
    commitsPerJob: z.number(),
    redisCommandsPerJob: z.number(),
    postgresConnections: z.number(),
  }),
});
const phaseLoad = { loadAtStart: z.string() };
/** The parts of latest.json the model reads; a run without them (a smoke or partial run) is refused by name. */
const benchResults = z.object({
  machine: z.object({ cpu: z.string(), cores: z.number(), command: z.string(), startedAt: z.string(), loadAtStart: z.string() }),
  'write-path': z.object({ summary: z.object({ serverCpuUsPerPostAt50: z.number(), redisBytesPerQueuedJob: z.number() }), ...phaseLoad }),
  pipeline: z.object({ runs: z.array(run).min(1), medianJobsPerSecond: z.number(), ...phaseLoad }),
  'stream-costs': z.object({ serverCpuUsPerDeliveredAt1000: z.number(), rssMbPerStreamAt1000: z.number(), ...phaseLoad }),
  compute: z.object({ ms: z.record(z.string(), z.number()), ...phaseLoad }),
});

export type UnitCosts = ReturnType<typeof unitCostsFrom>;

/** The unit costs, from a bench run's results: medians over the pipeline's runs. */
export function unitCostsFrom(results: unknown) {
  const parsed = benchResults.safeParse(results);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((issue) => issue.path.join('.')).join(', ');
    throw new Error(`bench results lack what the capacity model reads (${missing}): run the full \`npm run bench\``);
  }
  const { machine, pipeline, compute } = parsed.data;
  const writePath = parsed.data['write-path'];
  const streams = parsed.data['stream-costs'];
  const perJob = (process: string) => median(pipeline.runs.map((one) => one.cpuUsPerJob[process]!));
  const stores = (key: keyof z.infer<typeof run>['stores']) => median(pipeline.runs.map((one) => one.stores[key]));
  return {
    machine: { cpu: machine.cpu, cores: machine.cores, command: machine.command, startedAt: machine.startedAt },
    load: {
      pipeline: pipeline.loadAtStart,
      writePath: writePath.loadAtStart,
      streamCosts: streams.loadAtStart,
      compute: compute.loadAtStart,
    },
    pipelineJobsPerSecond: pipeline.medianJobsPerSecond,
    cpuUsPerJob: { server: perJob('server'), worker: perJob('worker'), postgres: perJob('postgres'), redis: perJob('redis') },
    serverCpuUsPerPost: writePath.summary.serverCpuUsPerPostAt50,
    computeMsByIndex: compute.ms,
    serverCpuUsPerEventDelivered: streams.serverCpuUsPerDeliveredAt1000,
    rssMbPerStream: streams.rssMbPerStreamAt1000,
    postgres: {
      bytesPerSubmission: stores('submittedIndexesBytesPerSubmission'),
      bytesPerResult: stores('resultsBytesPerResult'),
      walBytesPerJob: stores('walBytesPerJob'),
      commitsPerJob: stores('commitsPerJob'),
      connectionsHeld: stores('postgresConnections'),
    },
    redis: { commandsPerJob: stores('redisCommandsPerJob'), bytesPerQueuedJob: writePath.summary.redisBytesPerQueuedJob },
  };
}

/** Cores one pod gives at the autoscaler's target: it adds pods when the average passes this. */
export const coresPerPod = (pod: PodShape) => pod.cpuRequestCores * pod.targetUtilization;

/** Pods of a deployment a rate needs, unrounded: its CPU at that rate over what one pod gives. */
const podsFor = (rate: number, cpuUsPerJob: number, pod: PodShape) => (rate * cpuUsPerJob) / 1e6 / coresPerPod(pod);

const round1 = (n: number) => Math.round(n * 10) / 10;

/** What a sustained `rate` of submissions (each a new job) needs. */
export function capacityAt(costs: UnitCosts, sizing: Sizing, rate: number) {
  const pods = (name: 'server' | 'worker') =>
    Math.max(sizing[name].minReplicas, Math.ceil(podsFor(rate, costs.cpuUsPerJob[name], sizing[name])));
  const apiPods = pods('server');
  const workerPods = pods('worker');

  const postgresCores = (rate * costs.cpuUsPerJob.postgres) / 1e6;
  const connections = (apiPods + 1) * sizing.server.pgPoolMax + (workerPods + 1) * sizing.worker.pgPoolMax + RESERVE_CONNECTIONS;
  const postgresClass =
    POSTGRES_CLASSES.find(
      (candidate) => candidate.vcpus * STORE_CPU_TARGET >= postgresCores && maxConnectionsOf(candidate.memoryGib) >= connections,
    ) ?? POSTGRES_CLASSES.at(-1)!;
  const bytesPerIndex = costs.postgres.bytesPerSubmission + costs.postgres.bytesPerResult;
  const walBytesPerSecond = rate * costs.postgres.walBytesPerJob;
  const commitsPerSecond = rate * costs.postgres.commitsPerJob;
  const writeIops = Math.ceil(commitsPerSecond + walBytesPerSecond / EBS_IO_BYTES + (rate * bytesPerIndex) / PAGE_BYTES);
  const indexes = sizing.maxIndex + 1;

  const redisCores = (rate * costs.cpuUsPerJob.redis) / 1e6;
  const backlogGib = (rate * BACKLOG_SECONDS * costs.redis.bytesPerQueuedJob) / GIB;
  const cpuShards = Math.max(1, Math.ceil(redisCores / STORE_CPU_TARGET));
  // A node keeps half its memory free: a replica's full sync forks, and the copy-on-write copy can take as much again.
  const largest = REDIS_NODE_TYPES.at(-1)!;
  const shards = Math.max(cpuShards, Math.ceil((2 * backlogGib) / largest.memoryGib));
  const node = REDIS_NODE_TYPES.find((type) => type.memoryGib >= (2 * backlogGib) / shards)!;

  return {
    rate,
    api: { cores: round1((rate * costs.cpuUsPerJob.server) / 1e6), pods: apiPods },
    // The open event streams one API pod holds at its autoscaler target when every result goes to every stream.
    streamsPerApiPod: round1((coresPerPod(sizing.server) * 1e6) / (rate * costs.serverCpuUsPerEventDelivered)),
    worker: { cores: round1((rate * costs.cpuUsPerJob.worker) / 1e6), pods: workerPods },
    postgres: {
      cores: round1(postgresCores),
      instanceClass: postgresClass.name,
      connections,
      maxConnections: maxConnectionsOf(postgresClass.memoryGib),
      commitsPerSecond: Math.round(commitsPerSecond),
      walMibPerSecond: round1(walBytesPerSecond / 1024 ** 2),
      writeIops,
      // One row per index in each table: the first MAX_INDEX + 1 distinct indexes fill them, and then they grow no more.
      secondsUntilFull: Math.ceil(indexes / rate),
      ceilingGib: round1(storedBytesUpTo(sizing.maxIndex) / GIB),
      walGibPerDay: round1((walBytesPerSecond * 86_400) / GIB),
    },
    redis: {
      cores: round1(redisCores),
      commandsPerSecond: Math.round(rate * costs.redis.commandsPerJob),
      backlogGib: round1(backlogGib),
      shards,
      nodeType: node.name,
    },
  };
}

/** RDS's default max_connections for an instance class's memory. */
function maxConnectionsOf(memoryGib: number): number {
  return Math.min(Math.floor((memoryGib * GIB) / 9_531_392), 5_000);
}

/** Worker pods a rate needs if every job's index were `index`: the worker's cost per job plus the computation's. */
export function workerPodsByIndex(costs: UnitCosts, sizing: Sizing, rate: number) {
  return Object.entries(costs.computeMsByIndex).map(([index, ms]) => ({
    index: Number(index),
    computeMs: ms,
    pods: Math.ceil(podsFor(rate, costs.cpuUsPerJob.worker + ms * 1_000, sizing.worker)),
  }));
}

/**
 * The autoscaler bounds the base manifests should have: the pods BASE_TARGET_RATE needs, with HEADROOM;
 * and the range a bound may be in before the check asks for new ones (at least what the target needs,
 * at most OVERSIZE × that).
 */
export function baseBounds(costs: UnitCosts, sizing: Sizing) {
  const bound = (name: 'server' | 'worker') => {
    const needed = podsFor(BASE_TARGET_RATE, costs.cpuUsPerJob[name], sizing[name]);
    const least = Math.max(sizing[name].minReplicas, Math.ceil(needed));
    return { needed: round1(needed), recommended: Math.max(least, Math.ceil(needed * HEADROOM)), least, most: OVERSIZE * least };
  };
  return { server: bound('server'), worker: bound('worker') };
}

/** What is wrong with the manifests' maxima against the model: nothing when each is within its range. */
export function boundProblems(bounds: ReturnType<typeof baseBounds>, maxima: Record<string, { name: 'server' | 'worker'; max: number }>) {
  return Object.entries(maxima).flatMap(([where, { name, max }]) => {
    const { least, most, recommended } = bounds[name];
    if (max < least)
      return [`${where}: ${max} pods cannot carry ${BASE_TARGET_RATE} submissions/s (needs ${least}; the model says ${recommended})`];
    if (max > most)
      return [
        `${where}: ${max} pods is more than ${OVERSIZE}× the ${least} that ${BASE_TARGET_RATE} submissions/s needs (the model says ${recommended})`,
      ];
    return [];
  });
}
