import type { Queue } from 'bullmq';
import express, { type Express } from 'express';
import type { HelmetOptions } from 'helmet';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { JobData } from '@fibstack/contract/jobs';
import { queuesDashboard } from './admin/queues-dashboard.js';
import type { ServerConfig } from './config.js';
import { eventsRoutes } from './events/routes.js';
import type { EventsHub } from './events/hub.js';
import { healthRoutes } from './health/routes.js';
import { limitsRoutes } from './limits/routes.js';
import { cors } from './http/cors.js';
import { errorHandler, notFound } from './http/errors.js';
import { rateLimiter } from './http/rate-limit.js';
import { requestId } from './http/request-id.js';
import { requestLogging } from './http/request-log.js';
import { securityHeaders } from './http/security-headers.js';
import { createMetrics } from './metrics/metrics.js';
import { registerStorageGauges } from './metrics/storage.js';
import { submitToStoredLatency } from './metrics/submit-latency.js';
import { staticRoutes } from './static/routes.js';
import { valuesRoutes } from './values/routes.js';
import { ValuesStore } from './values/store.js';
import type { RedisClient } from '@fibstack/service-kit/redis';

/** What the API needs from the outside; `main.ts` builds these from the environment, tests from real servers. */
export interface AppDeps {
  pool: pg.Pool;
  queue: Queue<JobData>;
  /** A fail-fast command connection: readiness checks and the rate limiter. */
  redis: RedisClient;
  /** The SSE hub relaying the worker's results. */
  events: EventsHub;
  config: Pick<ServerConfig, 'MAX_INDEX' | 'STATIC_DIR' | 'RATE_LIMIT_ENABLED' | 'RATE_LIMIT_PER_MINUTE' | 'TRUST_PROXY' | 'CORS_ORIGIN'> &
    Pick<ServerConfig, 'BULL_BOARD_ENABLED' | 'BULL_BOARD_USERNAME' | 'BULL_BOARD_PASSWORD' | 'STORAGE_BUDGET_GIB'>;
  logger: Logger;
}

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** helmet's defaults with a strict Content-Security-Policy: the API serves JSON, and the built client natively. */
export const SECURITY_HEADERS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
};

/** Builds the API from its dependencies. It does not listen: `main.ts` does, and tests use supertest. */
export function createApp({ pool, queue, redis, events, config, logger }: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);

  const metrics = createMetrics(queue);
  registerStorageGauges(metrics.registry, pool, config.STORAGE_BUDGET_GIB);
  app.use(metrics.track);
  app.use(requestId);
  app.use(requestLogging(app, logger, QUIET_PATHS));
  app.use(securityHeaders(SECURITY_HEADERS));

  if (config.CORS_ORIGIN) app.use('/api', cors(config.CORS_ORIGIN));
  if (config.RATE_LIMIT_ENABLED) app.use('/api', rateLimiter(redis, config.RATE_LIMIT_PER_MINUTE, logger));

  app.use(submitToStoredLatency(metrics.registry, events));
  // The submissions first: a request that leaves a router unmatched costs that router a turn of the
  // event loop. Routers declare full paths (not mounted under /api) so `req.route.path` is the whole pattern.
  app.use(valuesRoutes({ store: new ValuesStore(pool), queue, maxIndex: config.MAX_INDEX }));
  app.use(eventsRoutes(events));
  app.use(limitsRoutes(config.MAX_INDEX));
  app.use('/api', notFound);
  app.use(healthRoutes(pool, redis, metrics.registry));
  app.get('/metrics', metrics.expose);
  if (config.BULL_BOARD_ENABLED) {
    app.use(queuesDashboard(queue, { username: config.BULL_BOARD_USERNAME, password: config.BULL_BOARD_PASSWORD! }));
  }

  if (config.STATIC_DIR) app.use(staticRoutes(config.STATIC_DIR));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
