import { Router } from 'express';
import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { withDeadline } from '@fibstack/service-kit/deadline';
import type { RedisClient } from '@fibstack/service-kit/redis';

const CHECK_TIMEOUT_MS = 1_000;

async function reachable(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await withDeadline(check(), CHECK_TIMEOUT_MS, 'dependency check');
    return true;
  } catch {
    return false;
  }
}

/** Whether each dependency answers now. */
async function checkDependencies(pool: pg.Pool, redis: RedisClient) {
  const [postgres, redisUp] = await Promise.all([reachable(() => pool.query('SELECT 1')), reachable(() => redis.ping())]);
  return { postgres, redis: redisUp };
}

/**
 * `/healthz` says the process is alive and checks nothing else, so a database outage never makes the
 * orchestrator restart healthy API pods. `/readyz` says whether this instance can take submissions:
 * that needs Postgres only. Submissions are durable in Postgres and the worker's reconciler queues
 * them once Redis is back, so a Redis outage must not take every API pod out of its Service; it is
 * reported in the body and as `fibstack_dependency_up{dependency="redis"}`.
 */
export function healthRoutes(pool: pg.Pool, redis: RedisClient, registry: Registry): Router {
  new Gauge({
    name: 'fibstack_dependency_up',
    help: 'Whether a dependency answered its check at scrape time (1) or not (0)',
    labelNames: ['dependency'],
    registers: [registry],
    async collect() {
      const up = await checkDependencies(pool, redis);
      for (const [dependency, isUp] of Object.entries(up)) this.set({ dependency }, isUp ? 1 : 0);
    },
  });

  const router = Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    const up = await checkDependencies(pool, redis);
    const checks = { postgres: up.postgres ? 'up' : 'down', redis: up.redis ? 'up' : 'down' };
    res.status(up.postgres ? 200 : 503).json({ status: up.postgres ? 'ready' : 'not ready', checks });
  });
  return router;
}
