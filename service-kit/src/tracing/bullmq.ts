import type { Context } from '@opentelemetry/api';
import { BullMQOtel } from 'bullmq-otel';
import type { Span, Telemetry } from 'bullmq';
import { TRACING } from './switch.js';

/**
 * The BullMQ operations a submission's trace shows: the add (producer) and the job's processing
 * (consumer, whose parent travels inside the job). BullMQ also traces its own bookkeeping (every
 * fetch of the next job, stalled-job checks, closing), which would start a root trace many times a
 * second; those run untraced.
 */
const TRACED_OPERATIONS = /^(add|addBulk|process) /;

/** A span that records nothing and leaves the context as it is. */
const untraced: Span<Context> = {
  setSpanOnContext: (ctx) => ctx,
  setAttribute: () => undefined,
  setAttributes: () => undefined,
  addEvent: () => undefined,
  recordException: () => undefined,
  end: () => undefined,
};

/**
 * The `telemetry` option for a BullMQ Queue or Worker (bullmq-otel), so the trace context crosses the
 * queue inside each job; undefined when tracing is off, which makes BullMQ skip tracing entirely.
 */
export function queueTelemetry(): Telemetry<Context> | undefined {
  if (!TRACING) return undefined;
  const otel = new BullMQOtel('fibstack-bullmq');
  return {
    contextManager: otel.contextManager,
    tracer: {
      startSpan: (name, options, ctx) => (TRACED_OPERATIONS.test(name) ? otel.tracer.startSpan(name, options, ctx) : untraced),
    },
  };
}

/**
 * Job options carrying the active trace context, for jobs added in a batch: BullMQ would otherwise give
 * every job of one `addBulk` the context of whoever triggered the batch.
 */
export function jobTelemetry(telemetry: Telemetry<Context> | undefined): { metadata: string } | undefined {
  if (!telemetry) return undefined;
  return { metadata: telemetry.contextManager.getMetadata(telemetry.contextManager.active()) };
}
