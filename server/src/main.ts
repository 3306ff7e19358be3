import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import { QUEUE_NAME, type JobData } from '@fibstack/contract/jobs';
import { configOrExit } from '@fibstack/service-kit/config';
import { createLogger, logCrashes } from '@fibstack/service-kit/logger';
import { createPool, poolConfigFrom } from '@fibstack/service-kit/postgres';
import { connectRedis, queuePrefix } from '@fibstack/service-kit/redis';
import { onShutdownSignal } from '@fibstack/service-kit/shutdown';
import { queueTelemetry } from '@fibstack/service-kit/tracing/bullmq';
import { createApp } from './app.js';
import { loadConfig } from './config.js';
import { EventsHub } from './events/hub.js';
import { gracefulCloser } from './http/graceful-close.js';

const config = configOrExit(loadConfig);
const logger = createLogger('server', config.LOG_LEVEL);
logCrashes(logger);

const pool = createPool(poolConfigFrom(config), logger);
const commands = connectRedis(config, 'command', logger, 'server-commands');
const subscriber = connectRedis(config, 'blocking', logger, 'server-events', { subscriber: true });
const queue = new Queue<JobData>(QUEUE_NAME, { connection: commands, prefix: queuePrefix(config), telemetry: queueTelemetry() });
// The connection itself warns once per outage; BullMQ repeats every reconnect attempt.
queue.on('error', (error) => logger.debug({ err: error }, 'queue connection error'));
const events = new EventsHub(subscriber, pool, logger, config);
events.start().catch((error: unknown) => logger.warn({ err: error }, 'results subscription pending Redis'));

const server = createServer(createApp({ pool, queue, redis: commands, events, config, logger }));
// Longer than a proxy's idle upstream keep-alive (a cloud balancer's 60 s), so none reuses a connection we are closing.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
const closeServer = gracefulCloser(server);
server.on('error', (error) => {
  logger.fatal({ err: error, port: config.PORT }, 'cannot listen');
  process.exit(1);
});
server.listen(config.PORT, config.HOST, () => logger.info({ port: config.PORT, host: config.HOST }, 'API listening'));

onShutdownSignal(logger, async () => {
  // Keep serving while balancers stop routing here, then end the never-ending SSE streams (browsers
  // reconnect elsewhere), stop accepting, and let in-flight requests finish, bounded by SHUTDOWN_TIMEOUT_MS.
  await new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_DRAIN_MS));
  logger.info({ drainMs: config.SHUTDOWN_DRAIN_MS }, 'drain over; closing the listener');
  events.close();
  await closeServer(config.SHUTDOWN_TIMEOUT_MS);
  await queue.close();
  commands.disconnect();
  await pool.end();
});
