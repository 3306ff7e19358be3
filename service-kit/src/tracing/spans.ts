import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Context, type Span } from '@opentelemetry/api';
import { TRACING } from './switch.js';

const tracer = trace.getTracer('fibstack');

/** W3C trace context (`traceparent`, `tracestate`) as it travels inside a message. */
export type TraceCarrier = Record<string, string>;

export interface SpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent taken from a message instead of the active context. */
  parent?: TraceCarrier;
}

/**
 * Runs `work` inside a span named `name` (child of the active span, or of `parent`), ending it when the
 * work settles and recording a failure. With tracing off it just runs `work`.
 */
export async function traced<T>(name: string, options: SpanOptions, work: (span?: Span) => Promise<T> | T): Promise<T> {
  if (!TRACING) return work();
  const parent = options.parent ? contextFrom(options.parent) : context.active();
  return tracer.startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.message });
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active trace context, to put in a message; undefined when tracing is off or nothing is traced. */
export function currentTraceCarrier(): TraceCarrier | undefined {
  if (!TRACING) return undefined;
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : undefined;
}

function contextFrom(carrier: TraceCarrier): Context {
  return propagation.extract(context.active(), carrier);
}

export { SpanKind };
