import { Router } from 'express';
import type { EventsHub } from './hub.js';

/** `GET /api/events`: Server-Sent Events, one `result` event per value the worker stores. */
export function eventsRoutes(hub: EventsHub): Router {
  const router = Router();
  router.get('/api/events', (_req, res) => hub.attach(res));
  return router;
}
