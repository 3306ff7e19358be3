import { Router } from 'express';
import type { EventsHub } from './hub.js';

/**
 * `GET /api/events`: Server-Sent Events, one `result` event per value the worker stores, each with its
 * id; `Last-Event-ID` (or `?lastEventId=`) resumes after that id.
 */
export function eventsRoutes(hub: EventsHub): Router {
  const router = Router();
  router.get('/api/events', (req, res) => hub.attach(req, res));
  return router;
}
