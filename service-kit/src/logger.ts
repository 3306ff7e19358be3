import { pino, type Logger, type LevelWithSilent } from 'pino';
import { traceLogFields } from './tracing/log-fields.js';
import { TRACING } from './tracing/switch.js';

/**
 * Fields of logged errors that carry credentials, blanked in every line, in an error and in those an
 * AggregateError holds (pino folds a `cause` into the message and stack, without its fields). ioredis
 * puts the arguments of a failed command on its error, and those of AUTH and HELLO are the user name and
 * the password: a wrong Redis password was logged as `"command":{"name":"auth","args":["<password>"]}`.
 * Node's URL errors carry the URL they could not parse as `input`, credentials included.
 */
const REDACTED_PATHS = ['err.command.args', 'err.input', 'err.aggregateErrors[*].command.args', 'err.aggregateErrors[*].input'];

/** JSON logs on stdout, one line per event, tagged with the service name so mixed streams stay readable. */
export function createLogger(service: string, level: LevelWithSilent): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // With tracing on, each line carries the trace_id/span_id of the request or job it belongs to.
    ...(TRACING ? { mixin: traceLogFields } : {}),
  });
}

/**
 * For an entry point: a stray promise rejection is logged and the process keeps serving (a dependency
 * outage must never take it down); an uncaught exception is logged and the process exits 1, as Node would,
 * but through the logger's redaction: Node itself would print every field of the error.
 */
export function logCrashes(logger: Logger): void {
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
}
