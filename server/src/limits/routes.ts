import { Router } from 'express';
import type { Limits } from '@fibstack/contract/limits';

/**
 * `GET /api/limits`: the limits this instance enforces, read from its configuration, so the client's
 * hint, its checks before sending and its messages match the server it talks to.
 */
export function limitsRoutes(maxIndex: number): Router {
  const router = Router();
  const limits: Limits = { maxIndex };
  router.get('/api/limits', (_req, res) => {
    // Revalidated on each load (an unchanged answer is a 304): a new MAX_INDEX shows at once.
    res.setHeader('Cache-Control', 'no-cache');
    res.json(limits);
  });
  return router;
}
