import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { QUEUE_NAME } from '@fibstack/contract/jobs';
import { freePort } from '@fibstack/devstack/ports';
import { startNativeStack, type NativeStack, type ServiceName } from '@fibstack/devstack/stack';
import { ownCpuUs, postgresCpuUs, postmasterPid, processCpuUs, type CpuCounters } from './cpu.js';
import { indexesFrom, postIndexes } from './http-load.js';
import { within } from '@fibstack/devstack/testkit';
import { waitUntil, type Waited } from './wait.js';

/** How long a stopping service may take to finish what it holds before it is killed. */
const STOP_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 60_000;

/** The native stack the benchmark measures, with the clients and counters the phases share. */
export interface BenchStack {
  stack: NativeStack;
  pool: pg.Pool;
  redis: Redis;
  queue: Queue;
  /** CPU counters of every process involved: server, worker, Postgres, Redis, and this one (the load generator). */
  cpu: CpuCounters;
  /** Stops the server and the worker, empties Postgres and Redis, and starts both again (see resetData). */
  reset(options?: ResetOptions): Promise<ResetReport>;
  close(): Promise<void>;
}

export interface ResetOptions {
  /** Workers started after the reset (every replica unless given). */
  workers?: number;
  /** Where the warm-up POSTs go, and the client each names: the edge, in front of every server (the first server otherwise). */
  via?: { url: string; nextClient: () => string };
  /**
   * POSTs to send to the new server before the data is emptied a second time, so the phase that follows
   * measures a warm server (JIT-compiled hot path, connection pools, prepared statements), as the one
   * before did: a restarted Node process is several times slower for its first thousand requests.
   */
  warmUpPosts?: number;
}

export interface ResetReport {
  /** A service (`worker-2` for a second replica) that had to be killed because it did not stop within the bound. */
  killed: string[];
  workerReady: Waited;
  warmUp?: Waited;
}

/** Warm-up submissions use indexes no phase measures (the bench stack accepts up to 10,000,000). */
const WARM_UP_FIRST_INDEX = 9_000_000;

/** More than one server and worker (each server on a loopback address of its own), and what only the server reads. */
export interface BenchStackShape {
  replicas?: number;
  serverEnv?: Record<string, string>;
}

/**
 * Starts Postgres, Redis, the server and the worker natively in `dataDir`, as production runs them
 * (compiled JavaScript, LOG_LEVEL info, logs written to `dataDir/logs`). With `replicas`, the `server`
 * and `worker` CPU counters add up every replica.
 */
export async function startBenchStack(
  dataDir: string,
  env: Record<string, string> = {},
  { replicas = 1, serverEnv }: BenchStackShape = {},
): Promise<BenchStack> {
  const stack = await startNativeStack({
    port: await freePort(),
    dataDir,
    persistent: false,
    output: { logDir: join(dataDir, 'logs') },
    // No drain pause: nothing balances traffic here, and resets restart the server.
    env: { LOG_LEVEL: 'info', SHUTDOWN_DRAIN_MS: '0', ...env },
    replicas: { server: replicas, worker: replicas },
    ...(serverEnv && { serviceEnv: { server: serverEnv } }),
  });
  const pool = new pg.Pool({ connectionString: stack.databaseUrl });
  const redis = new Redis(stack.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAME, { connection: redis });
  const target = { stack, pool, redis, queue };
  return {
    ...target,
    cpu: {
      server: () => everyReplicaCpuUs(stack, 'server', replicas),
      worker: () => everyReplicaCpuUs(stack, 'worker', replicas),
      postgres: () => postgresCpuUs(join(dataDir, 'postgres')),
      redis: () => processCpuUs(stack.redis?.process.pid),
      'load generator': ownCpuUs,
    },
    reset: (options) => resetData({ ...target, replicas }, options),
    async close() {
      await within(
        queue.close().catch(() => undefined),
        5_000,
      );
      redis.disconnect();
      await within(pool.end(), 5_000);
      // The services first, each killed if it does not stop in time, so stopping never hangs.
      await Promise.all(
        (['worker', 'server'] as const).flatMap((name) => Array.from({ length: replicas }, (_, i) => stopBounded(stack, name, i))),
      );
      await stopStores(stack, dataDir);
    },
  };
}

/** CPU time of every running replica of a service, µs (a stopped one counts nothing; none running: NaN). */
function everyReplicaCpuUs(stack: NativeStack, name: ServiceName, replicas: number): number {
  const pids = Array.from({ length: replicas }, (_, i) => stack.pid(name, i)).filter((pid) => pid !== undefined);
  return pids.length === 0 ? NaN : pids.reduce((sum, pid) => sum + processCpuUs(pid), 0);
}

/** Stops Postgres and Redis, killing them if they do not stop in time. */
async function stopStores(stack: NativeStack, dataDir: string): Promise<void> {
  const pids = [stack.redis?.process.pid, postmasterPid(join(dataDir, 'postgres'))];
  if (
    (await within(
      stack.stop().then(() => true),
      STOP_TIMEOUT_MS,
    )) === undefined
  ) {
    for (const pid of pids) if (pid !== undefined) process.kill(pid, 'SIGKILL');
  }
}

/** Stops a service gracefully, killing it if it takes longer than the bound. */
async function stopBounded(stack: NativeStack, name: ServiceName, replica = 0): Promise<boolean> {
  const pid = stack.pid(name, replica);
  const stopped = stack.stopService(name, 'SIGTERM', replica);
  if ((await within(stopped, STOP_TIMEOUT_MS)) !== undefined || pid === undefined) return false;
  process.kill(pid, 'SIGKILL');
  await stopped;
  return true;
}

/** Resolves once `workers` BullMQ workers are connected to the queue (they then take jobs as they arrive). */
export function untilWorkersListen(queue: Queue, workers = 1): Promise<Waited> {
  return waitUntil(async () => (await queue.getWorkers()).length >= workers, {
    timeoutMs: START_TIMEOUT_MS,
    what: `${workers === 1 ? 'the worker' : `${workers} workers`} to connect to the queue`,
  });
}

/**
 * Empties the data between phases so that nothing from an earlier phase lands after it:
 * 1. stop the worker and the server first: the worker finishes the jobs it holds and the server the
 *    requests and queue adds in flight (a load generator that stops at a deadline leaves some), so no
 *    late insert or job can follow the truncation;
 * 2. empty Redis (queued, delayed and retried jobs) and Postgres;
 * 3. start the server, and warm it up if asked: its warm-up submissions are all answered, and all their
 *    jobs are in Redis, before the data is emptied again, so none of them can land later either;
 * 4. start the worker and wait until it listens on the queue.
 */
export async function resetData(
  { stack, pool, redis, queue, replicas = 1 }: Pick<BenchStack, 'stack' | 'pool' | 'redis' | 'queue'> & { replicas?: number },
  { warmUpPosts = 0, workers = replicas, via }: ResetOptions = {},
): Promise<ResetReport> {
  const each = Array.from({ length: replicas }, (_, i) => i);
  const services = (['worker', 'server'] as const).flatMap((name) => each.map((replica) => ({ name, replica })));
  const killed = await Promise.all(services.map(({ name, replica }) => stopBounded(stack, name, replica)));
  const empty = async () => {
    await redis.flushall();
    await pool.query('TRUNCATE submitted_indexes, results RESTART IDENTITY');
  };
  await empty();
  await Promise.all(each.map((replica) => stack.startService('server', replica)));
  let warmUp: Waited | undefined;
  if (warmUpPosts > 0) {
    const answered = await postIndexes(
      via?.url ?? stack.url,
      50,
      { amount: warmUpPosts },
      indexesFrom(WARM_UP_FIRST_INDEX),
      via?.nextClient,
    );
    const accepted = answered.requests - answered.non2xx;
    warmUp = await waitUntil(async () => (await queue.count()) >= accepted, { timeoutMs: 10_000, what: 'every warm-up job to be queued' });
    await empty();
  }
  for (let replica = 0; replica < workers; replica++) await stack.startService('worker', replica);
  return {
    killed: services.filter((_, i) => killed[i]).map(({ name, replica }) => (replica === 0 ? name : `${name}-${replica + 1}`)),
    workerReady: await untilWorkersListen(queue, workers),
    ...(warmUp && { warmUp }),
  };
}
