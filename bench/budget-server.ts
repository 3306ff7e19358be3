/**
 * One rung of the per-request CPU budget: an API server that does the first LAYERS steps of a POST
 * /api/values, built from the server's own modules. `LAYERS=all` is the real app (createApp), wired as
 * main.ts wires it. Run by budget.ts, one process per rung; it reports 'ready' over IPC.
 */
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import express, { type RequestHandler } from 'express';
import { Redis } from 'ioredis';
import pg from 'pg';
import { QUEUE_NAME, type JobData } from '@fibstack/contract/jobs';
import { checkIndex } from '@fibstack/contract/values';
import { createLogger } from '@fibstack/service-kit/logger';
import { redisOptionsFrom } from '@fibstack/service-kit/redis';
import { createApp, SECURITY_HEADERS } from '../server/src/app.js';
import { loadConfig } from '../server/src/config.js';
import { EventsHub } from '../server/src/events/hub.js';
import { jsonBody } from '../server/src/http/json-body.js';
import { sendJson } from '../server/src/http/json-response.js';
import { requestId } from '../server/src/http/request-id.js';
import { requestLogging } from '../server/src/http/request-log.js';
import { securityHeaders } from '../server/src/http/security-headers.js';
import { createMetrics } from '../server/src/metrics/metrics.js';
import { FibonacciEnqueuer } from '../server/src/values/enqueue.js';
import { ValuesStore } from '../server/src/values/store.js';
import { BUDGET_LAYERS } from './budget-layers.js';

const config = loadConfig();
const logger = createLogger('server', config.LOG_LEVEL);
const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.PG_POOL_MAX });
const commands = new Redis(redisOptionsFrom(config, 'command'));
const queue = new Queue<JobData>(QUEUE_NAME, { connection: commands });
const layerCount = process.env.LAYERS === 'all' ? BUDGET_LAYERS.length : Number(process.env.LAYERS);
const has = (layer: (typeof BUDGET_LAYERS)[number]) => BUDGET_LAYERS.indexOf(layer) < layerCount;

function ladderApp() {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  const store = new ValuesStore(pool);
  const jobs = new FibonacciEnqueuer(queue);
  if (has('metrics')) app.use(createMetrics(queue).track);
  if (has('request id')) app.use(requestId);
  if (has('request log')) app.use(requestLogging(app, logger, new Set()));
  if (has('security headers')) app.use(securityHeaders(SECURITY_HEADERS));
  const body: RequestHandler[] = has('body parsing') ? [jsonBody] : [];
  app.post('/api/values', ...body, async (req, res) => {
    let index = 1;
    if (has('validation')) {
      const checked = checkIndex((req.body as { index?: unknown }).index, config.MAX_INDEX);
      if (!checked.ok) return sendJson(res, 422, { error: checked.code });
      index = checked.index;
    }
    if (has('submit (batcher + Postgres)')) await store.submit(index);
    if (has('enqueue (batcher + BullMQ)')) await jobs.enqueue({ index, requestId: req.id ?? '' });
    sendJson(res, 202, { index, status: 'pending' });
  });
  return app;
}

function fullApp() {
  const subscriber = new Redis(redisOptionsFrom(config, 'blocking'));
  const events = new EventsHub(subscriber, pool, logger, config);
  void events.start();
  return createApp({ pool, queue, redis: commands, events, config, logger });
}

const server = createServer(process.env.LAYERS === 'all' ? fullApp() : ladderApp());
server.keepAliveTimeout = 65_000;
server.listen(config.PORT, '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => process.exit(0));
// The benchmark that forked it is gone (Ctrl-C, a crash): nothing else would ever stop it.
process.on('disconnect', () => process.exit(0));
