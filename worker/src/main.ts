import { Queue, Worker } from 'bullmq';
import { QUEUE_NAME, type JobData } from '@fibstack/contract/jobs';
import { configOrExit } from '@fibstack/service-kit/config';
import { createLogger, logCrashes } from '@fibstack/service-kit/logger';
import { createPool, poolConfigFrom } from '@fibstack/service-kit/postgres';
import { connectRedis, queuePrefix } from '@fibstack/service-kit/redis';
import { Retention, RETENTION_SWEEP_INTERVAL_MS } from '@fibstack/service-kit/retention';
import { onShutdownSignal } from '@fibstack/service-kit/shutdown';
import { queueTelemetry } from '@fibstack/service-kit/tracing/bullmq';
import { loadConfig } from './config.js';
import { FibonacciPool } from './fibonacci/pool.js';
import { startHealthServer } from './health/health-server.js';
import { createProcessor } from './jobs/processor.js';
import { ResultsStore } from './jobs/results-store.js';
import { createWorkerMetrics } from './metrics/worker-metrics.js';
import { Reconciler } from './reconcile/reconciler.js';

const config = configOrExit(loadConfig);
const logger = createLogger('worker', config.LOG_LEVEL);
logCrashes(logger);

const pool = createPool(poolConfigFrom(config), logger);
const blocking = connectRedis(config, 'blocking', logger, 'worker-jobs');
const commands = connectRedis(config, 'blocking', logger, 'worker-commands');
// Results stored together are announced together: PUBLISHes issued in one tick share one write.
const publisher = connectRedis(config, 'blocking', logger, 'worker-publisher', { autoPipelining: true });
/** Every queue handle names the same keys: hash-tagged on a Redis Cluster. */
const prefix = queuePrefix(config);
const threads = new FibonacciPool(config.COMPUTE_THREADS, config.JOB_TIMEOUT_MS);
const metrics = createWorkerMetrics(threads);

const worker = new Worker<JobData>(
  QUEUE_NAME,
  metrics.timed(createProcessor({ store: new ResultsStore(pool), pool: threads, publisher, logger })),
  {
    connection: blocking,
    prefix,
    concurrency: config.WORKER_CONCURRENCY,
    lockDuration: config.WORKER_LOCK_DURATION_MS,
    stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
    telemetry: queueTelemetry(),
  },
);
worker.on('error', (error) => logger.warn({ err: error }, 'worker connection error'));
worker.on('failed', (job, error) =>
  logger.warn({ jobId: job?.id, index: job?.data.index, attempt: job?.attemptsMade, err: error }, 'job failed'),
);

const queue = new Queue<JobData>(QUEUE_NAME, { connection: commands, prefix, telemetry: queueTelemetry() });
queue.on('error', (error) => logger.debug({ err: error }, 'reconciler queue connection error'));
metrics.observe(worker, queue);
const reconciler = new Reconciler(pool, queue, logger, metrics.requeued);
reconciler.start(config.RECONCILE_INTERVAL_MS);
// Every replica sweeps; two sweeping at once delete each row once (the second finds it gone).
const retention = new Retention(pool, logger, config.RETENTION_DAYS);
retention.start(RETENTION_SWEEP_INTERVAL_MS);

let closing = false;
const health = config.HEALTH_PORT ? startHealthServer(config.HEALTH_PORT, () => closing, metrics.registry) : undefined;
logger.info({ concurrency: config.WORKER_CONCURRENCY, threads: config.COMPUTE_THREADS }, 'worker started');

onShutdownSignal(
  logger,
  async () => {
    closing = true;
    // Stop taking jobs and wait for the ones in progress (their locks keep being renewed meanwhile).
    await worker.close();
    await reconciler.stop();
    await retention.stop();
    await threads.close();
    await queue.close();
    health?.close();
    commands.disconnect();
    publisher.disconnect();
    blocking.disconnect();
    await pool.end();
  },
  // Finishing a job needs Postgres and Redis; should they be gone for good, stop waiting for them.
  { timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
);
