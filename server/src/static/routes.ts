import { basename, join } from 'node:path';
import type { ServerResponse } from 'node:http';
import compression from 'compression';
import express, { Router } from 'express';
import { notFound } from '../http/errors.js';

/** index.html names the current hashed assets, so browsers must revalidate it on every load. */
function revalidateIndex(res: ServerResponse, path: string): void {
  if (basename(path) === 'index.html') res.setHeader('Cache-Control', 'no-cache');
}

/**
 * Serves the built client (native `npm start`; in containers nginx does this). Hashed assets are cached
 * for good and a missing one is a plain 404; every other GET outside /api that names no file gets
 * index.html, uncached, so deep links like /values/10 work. Everything is sent compressed to clients that
 * accept it, as nginx does in the containers: the bundle is a quarter of its size gzipped.
 */
export function staticRoutes(dir: string): Router {
  const router = Router();
  router.use(compression());
  router.use('/assets', express.static(join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false }), notFound);
  router.use(express.static(dir, { index: false, setHeaders: revalidateIndex }));
  router.get(/^(?!\/api(\/|$)).*/, (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(join(dir, 'index.html'));
  });
  return router;
}
