import type { Logger } from 'pino';
import { flushTracing } from './tracing/switch.js';

export interface ShutdownOptions {
  /**
   * Exit 1 this long after the first signal if `stop` has not finished: stopping waits on Postgres and
   * Redis, and when they have gone away for good it would otherwise wait forever.
   */
  timeoutMs?: number;
}

/**
 * Runs `stop` once on the first SIGTERM or SIGINT, then exits 0 (or 1 if stopping failed or overran
 * `timeoutMs`). A second signal while stopping exits at once, so Ctrl-C twice always works.
 */
export function onShutdownSignal(
  logger: Logger,
  stop: (signal: NodeJS.Signals) => Promise<void>,
  { timeoutMs }: ShutdownOptions = {},
): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal while stopping; exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    if (timeoutMs !== undefined) {
      // Not unref'd: this timer must keep the process alive until it fires or stopping ends.
      setTimeout(() => {
        logger.error({ timeoutMs }, 'shutdown did not finish in time; exiting now');
        process.exit(1);
      }, timeoutMs);
    }
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
