import { context, trace } from '@opentelemetry/api';

/**
 * A pino mixin: every log line written inside a span carries its trace and span ids, under the names
 * OpenTelemetry's log correlation uses, so a trace in Jaeger leads to its log lines and back.
 */
export function traceLogFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return { trace_id: traceId, span_id: spanId, trace_flags: `0${traceFlags.toString(16)}` };
}
