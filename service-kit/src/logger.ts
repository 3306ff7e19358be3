import { pino, type Logger, type LevelWithSilent } from 'pino';

/** JSON logs on stdout, one line per event, tagged with the service name so mixed streams stay readable. */
export function createLogger(service: string, level: LevelWithSilent): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
