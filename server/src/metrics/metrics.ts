import type { Queue } from 'bullmq';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { registerQueueJobsGauge } from '@fibstack/service-kit/queue-metrics';

/**
 * Prometheus metrics of one app instance: request durations by route pattern (never the raw URL, which
 * would explode label cardinality), process metrics, and the queue's job counts read at scrape time.
 */
export function createMetrics(queue: Queue) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  registerQueueJobsGauge(registry, () => queue);

  const track: RequestHandler = (req, res, next) => {
    const stop = requestDuration.startTimer();
    res.on('finish', () => {
      // Routers declare full paths: req.baseUrl is already reset when an error left the router.
      const path = (req.route as { path?: string | RegExp } | undefined)?.path;
      const route = path ? String(path) : 'unmatched';
      stop({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  };

  const expose: RequestHandler = async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  };

  return { registry, track, expose };
}
