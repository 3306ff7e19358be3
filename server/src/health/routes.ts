import { Router } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { withDeadline } from '../deadline.js';

const CHECK_TIMEOUT_MS = 1_000;

async function reachable(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await withDeadline(check(), CHECK_TIMEOUT_MS, 'readiness check');
    return true;
  } catch {
    return false;
  }
}

/**
 * `/healthz` says the process is alive and checks nothing else, so a database outage never makes the
 * orchestrator restart healthy API pods. `/readyz` says whether this instance can serve requests now.
 */
export function healthRoutes(pool: pg.Pool, redis: Redis): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  router.get('/readyz', async (_req, res) => {
    const [postgres, redisUp] = await Promise.all([
      reachable(() => pool.query('SELECT 1')),
      reachable(() => redis.ping()),
    ]);
    const checks = { postgres: postgres ? 'up' : 'down', redis: redisUp ? 'up' : 'down' };
    res.status(postgres && redisUp ? 200 : 503).json({ status: postgres && redisUp ? 'ready' : 'not ready', checks });
  });
  return router;
}
