import { join } from 'node:path';
import express, { Router } from 'express';

/**
 * Serves the built client (native `npm start`; in containers nginx does this). Hashed assets are cached
 * for good; every other GET outside /api gets index.html, uncached, so deep links like /values/10 work.
 */
export function staticRoutes(dir: string): Router {
  const router = Router();
  router.use(
    '/assets',
    express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }),
  );
  router.use(express.static(dir, { index: false }));
  router.get(/^(?!\/api(\/|$)).*/, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(dir, 'index.html'));
  });
  return router;
}
