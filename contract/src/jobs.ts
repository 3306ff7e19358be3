import { z } from 'zod/mini';

/** The BullMQ queue the server adds to and the worker consumes. */
export const QUEUE_NAME = 'fibonacci';

/** Redis pub/sub channel on which the worker announces each stored result (a `ResultEvent` as JSON). */
export const RESULTS_CHANNEL = 'fibstack:results';

/** One job per index: a repeated submission finds the job already there instead of adding a second. */
export function jobIdFor(index: number): string {
  return `fib-${index}`;
}

export const jobDataSchema = z.object({
  index: z.number().check(z.int(), z.nonnegative()),
  /** The id of the HTTP request that queued the job, so its log lines can be joined with the API's. */
  requestId: z.string(),
});
export type JobData = z.infer<typeof jobDataSchema>;

/**
 * Options for every Fibonacci job, whoever adds it (the API, or the worker's reconciler):
 * a few retries with exponential backoff for transient failures, completed jobs removed so Redis
 * memory stays bounded (the value lives in Postgres), the latest failures kept for inspection.
 */
export const JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { count: 1_000 },
} as const;

/** The name every Fibonacci job carries in the queue. */
export const JOB_NAME = 'fibonacci';

/**
 * The one way to build a Fibonacci job, for BullMQ's `add`/`addBulk`: the API's enqueuer and the
 * worker's reconciler both use it, so a job re-added by the reconciler is the same job (same id, same
 * retry policy) as the one the API queued. `telemetry` carries the queuing request's trace context.
 */
export function fibonacciJob(data: JobData, telemetry?: { metadata: string }) {
  return {
    name: JOB_NAME,
    data,
    opts: { ...JOB_OPTIONS, jobId: jobIdFor(data.index), ...(telemetry && { telemetry }) },
  };
}

/**
 * With tracing on, a result announcement also carries the trace context of its publish (W3C
 * `traceparent`, `tracestate`) under this key, beside the ResultEvent fields, so the API's delivery to
 * browsers joins the submission's trace. The API relays the ResultEvent fields only.
 */
export const TRACE_CONTEXT_KEY = 'trace';
export const traceContextSchema = z.record(z.string(), z.string());
