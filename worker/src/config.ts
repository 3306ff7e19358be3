import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { intVar, logLevelVar, optionalVar, parseEnv } from '@fibstack/service-kit/config';
import { postgresEnv } from '@fibstack/service-kit/postgres';
import { checkRedisEnv, redisEnv } from '@fibstack/service-kit/redis';

const PORT_RULE = 'must be an integer from 1 to 65535';

/** Every variable the worker reads, with its default: the one place those defaults are written. */
export const workerEnv = z
  .object({
    ...postgresEnv.shape,
    ...redisEnv.shape,
    LOG_LEVEL: logLevelVar,
    /**
     * Jobs in progress at once. Most are tiny and wait on Redis or Postgres, and jobs finishing together
     * share one INSERT, so many in flight pays (measured on 2 cores: 8 → 1,500 jobs/s, 50 → 2,560 jobs/s).
     */
    WORKER_CONCURRENCY: intVar(1, 500, 50),
    /** Threads for big values; defaults to the core count. */
    COMPUTE_THREADS: intVar(1, 64, availableParallelism()),
    /** No input may hold a worker longer than this. */
    JOB_TIMEOUT_MS: intVar(100, 600_000, 30_000),
    RECONCILE_INTERVAL_MS: intVar(100, 3_600_000, 30_000),
    /**
     * An index nobody submitted for this many days is deleted with its value (checked hourly, in bounded
     * batches): the list of indexes seen stays recent. Submitting it again computes it again.
     */
    RETENTION_DAYS: intVar(1, 36_500, 30),
    /** How long a job's lock lasts without renewal; a crashed worker's jobs are retried after it. */
    WORKER_LOCK_DURATION_MS: intVar(1_000, 600_000, 30_000),
    WORKER_STALLED_INTERVAL_MS: intVar(1_000, 600_000, 30_000),
    /**
     * After SIGTERM, how long jobs in progress may take to finish before the worker exits 1 anyway: above
     * JOB_TIMEOUT_MS, below the platform's grace period (compose 40 s, Kubernetes 60 s).
     */
    SHUTDOWN_TIMEOUT_MS: intVar(1_000, 600_000, 35_000),
    /** When set, GET /healthz answers on this port (Kubernetes liveness, compose healthcheck). */
    HEALTH_PORT: optionalVar().pipe(
      z.optional(z.string().regex(/^\d+$/, PORT_RULE).transform(Number).pipe(z.number().int().min(1, PORT_RULE).max(65535, PORT_RULE))),
    ),
  })
  .superRefine(checkRedisEnv);

/** The worker's validated settings. */
export type WorkerConfig = z.infer<typeof workerEnv>;

/** Reads and validates the worker's environment once; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv(workerEnv, env);
}
