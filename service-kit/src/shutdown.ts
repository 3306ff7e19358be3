import type { Logger } from 'pino';
import { flushTracing } from './tracing/switch.js';

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (or 1 if stopping failed).
 * A second signal while stopping exits at once, so Ctrl-C twice always works.
 */
export function onShutdownSignal(logger: Logger, stop: (signal: NodeJS.Signals) => Promise<void>): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while stopping; exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stop(signal).then(
      async () => {
        logger.info('stopped cleanly');
        await flushTracing();
        process.exit(0);
      },
      async (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        await flushTracing();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handle);
  process.on('SIGINT', handle);
}
