import { pino, type Logger, type LevelWithSilent } from 'pino';
import { traceLogFields } from './tracing/log-fields.js';
import { TRACING } from './tracing/switch.js';

/** JSON logs on stdout, one line per event, tagged with the service name so mixed streams stay readable. */
export function createLogger(service: string, level: LevelWithSilent): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    // With tracing on, each line carries the trace_id/span_id of the request or job it belongs to.
    ...(TRACING ? { mixin: traceLogFields } : {}),
  });
}
