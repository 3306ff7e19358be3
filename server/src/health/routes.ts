import { Router } from 'express';
import type { Redis } from 'ioredis';
import type pg from 'pg';

const CHECK_TIMEOUT_MS = 1_000;

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms))),
  ]).finally(() => clearTimeout(timer));
}

async function reachable(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await within(check(), CHECK_TIMEOUT_MS);
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
