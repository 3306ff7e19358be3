import type { Logger } from 'pino';

/**
 * Runs `pass` now and then every `intervalMs`, one pass at a time: a tick that comes while a pass is still
 * running is skipped, so a slow database never piles passes up. A failed pass (an outage) is logged and
 * tried again at the next tick. The worker's reconciler and retention sweep run on it.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly logger: Logger,
    /** Logged (with the error) when a pass fails. */
    private readonly failureMessage: string,
  ) {}

  start(intervalMs: number): void {
    const tick = () => {
      this.running ??= this.pass()
        .then(
          () => undefined,
          (error: unknown) => this.logger.warn({ err: error }, this.failureMessage),
        )
        .finally(() => (this.running = undefined));
    };
    tick();
    this.timer = setInterval(tick, intervalMs);
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
