import type { Queue } from 'bullmq';
import { Gauge, type Registry } from 'prom-client';
import { withDeadline } from './deadline.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
/** A scrape must answer even when Redis is down (BullMQ then waits for it indefinitely). */
const QUEUE_COUNT_TIMEOUT_MS = 500;

/**
 * `fibstack_queue_jobs{state}`: the Fibonacci queue's job counts, read at scrape time, as the API and the
 * worker both export them. `queue()` may return undefined until the queue exists.
 */
export function registerQueueJobsGauge(registry: Registry, queue: () => Queue | undefined): void {
  new Gauge({
    name: 'fibstack_queue_jobs',
    help: 'Jobs in the Fibonacci queue by state',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const current = queue();
      if (!current) return;
      try {
        const counts = await withDeadline(current.getJobCounts(...QUEUE_STATES), QUEUE_COUNT_TIMEOUT_MS, 'queue counts');
        for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
      } catch {
        // Redis is down: leave the last values; the health checks report the outage.
      }
    },
  });
}
