import type { Queue } from 'bullmq';
import { fibonacciJob, jobIdFor, type JobData } from '@fibstack/contract/jobs';
import { MicroBatcher } from '@fibstack/service-kit/batch';
import { jobTelemetry } from '@fibstack/service-kit/tracing/bullmq';
import { SpanKind, traced } from '@fibstack/service-kit/tracing/spans';
import { TRACING } from '@fibstack/service-kit/tracing/switch';
import { withDeadline } from '@fibstack/service-kit/deadline';

/** How long a request waits for Redis before it answers without it. */
const ENQUEUE_TIMEOUT_MS = 1_000;
/** Jobs sent per `addBulk` at most (one MULTI, one round trip). */
const MAX_JOBS_PER_ADD = 500;
const ADDS_IN_FLIGHT = 2;

type EnqueueResult = { queued: true } | { queued: false; error: unknown };

/** A job to add, with the trace context of the request that queued it (tracing on). */
interface JobToAdd {
  data: JobData;
  telemetry: { metadata: string } | undefined;
}

/**
 * Queues the Fibonacci job of each submission. Jobs queued at about the same time go to Redis together
 * in one `addBulk`. The deterministic job id makes a repeat of a pending index a no-op in BullMQ.
 */
export class FibonacciEnqueuer {
  private readonly adds: MicroBatcher<JobToAdd, unknown>;

  constructor(private readonly queue: Queue<JobData>) {
    this.adds = new MicroBatcher<JobToAdd, unknown>(
      (jobs: JobToAdd[]) => queue.addBulk(jobs.map(({ data, telemetry }) => fibonacciJob(data, telemetry))),
      { maxBatch: MAX_JOBS_PER_ADD, maxInFlight: ADDS_IN_FLIGHT },
    );
  }

  /**
   * Queues one job. The submission is already committed in Postgres, so a failure here (Redis down or
   * slow) is returned, not raised, for the caller to log: the worker's reconciler queues every submission
   * that has no result, and the caller still gets its 202.
   */
  enqueue(data: JobData): Promise<EnqueueResult> {
    if (!TRACING) return this.add(data);
    // The job's trace parent: this request's own span, whichever request's turn sends the batch.
    const attributes = { 'messaging.destination.name': this.queue.name, 'messaging.message.id': jobIdFor(data.index) };
    return traced('enqueue fibonacci', { kind: SpanKind.PRODUCER, attributes }, () => this.add(data));
  }

  private async add(data: JobData): Promise<EnqueueResult> {
    const add = this.adds.run({ data, telemetry: jobTelemetry(this.queue.opts.telemetry) });
    try {
      await withDeadline(add, ENQUEUE_TIMEOUT_MS, 'queue add');
      return { queued: true };
    } catch (error) {
      // An add still waiting for Redis may yet land (harmless: same job id) or fail later, unobserved.
      add.catch(() => undefined);
      return { queued: false, error };
    }
  }
}
