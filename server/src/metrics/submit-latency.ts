import { performance } from 'node:perf_hooks';
import type { RequestHandler } from 'express';
import { Histogram, type Registry } from 'prom-client';
import type { EventsHub } from '../events/hub.js';

/**
 * Accepted submissions still waiting for their value, per instance. Bounded: results announced while
 * this instance's subscription was down never arrive, so the oldest entries make way for new ones.
 */
const MAX_WAITING = 50_000;
/**
 * Results this instance has seen but was not waiting for, kept briefly: a small value can be computed,
 * stored and announced before the 202 of its own request has finished writing. The subscription sees
 * every replica's results, so this holds only the most recent ones.
 */
const MAX_RECENT_RESULTS = 10_000;

/** A Map that forgets its oldest entry once it holds `limit`. */
function remember(map: Map<number, number>, key: number, value: number, limit: number): void {
  if (map.size >= limit) map.delete(map.keys().next().value!);
  map.set(key, value);
}

/**
 * `fibstack_submit_to_stored_seconds`: from a submission's arrival (answered 202) to its result event
 * reaching this instance, i.e. queued, computed, stored and announced. Each instance measures the
 * submissions it accepted, so with several replicas every submission is counted once. A repeat of a
 * pending index keeps the first arrival. Returns a middleware that looks at `POST /api/values` only.
 */
export function submitToStoredLatency(registry: Registry, events: EventsHub): RequestHandler {
  const latency = new Histogram({
    name: 'fibstack_submit_to_stored_seconds',
    help: 'Time from a submission being accepted (202) to its computed value being stored and announced',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const waiting = new Map<number, number>();
  const recentResults = new Map<number, number>();
  events.onResult((index) => {
    const now = performance.now();
    const since = waiting.get(index);
    if (since === undefined) return remember(recentResults, index, now, MAX_RECENT_RESULTS);
    waiting.delete(index);
    latency.observe((now - since) / 1000);
  });

  return (req, res, next) => {
    if (req.method !== 'POST' || req.path !== '/api/values') return next();
    const arrived = performance.now();
    res.on('finish', () => {
      const index = (req.body as { index?: unknown } | undefined)?.index;
      if (res.statusCode !== 202 || typeof index !== 'number' || waiting.has(index)) return;
      const stored = recentResults.get(index);
      if (stored === undefined || stored < arrived) return remember(waiting, index, arrived, MAX_WAITING);
      recentResults.delete(index);
      latency.observe((stored - arrived) / 1000);
    });
    next();
  };
}
