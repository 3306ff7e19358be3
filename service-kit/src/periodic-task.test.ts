import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { eventually } from '@fibstack/devstack/testkit';
import { PeriodicTask } from './periodic-task.js';

const silent = pino({ level: 'silent' });

/** A pass that stays in flight until the test releases it. */
function heldPasses() {
  const releases: Array<() => void> = [];
  const pass = () => new Promise<void>((resolve) => releases.push(resolve));
  return { pass, releases };
}

describe('PeriodicTask', () => {
  it('runs a pass at once and then every interval, never two at a time', async () => {
    const { pass, releases } = heldPasses();
    const task = new PeriodicTask(pass, silent, 'failed');
    task.start(10);
    expect(releases).toHaveLength(1);
    // Many ticks go by while the first pass is held: none starts another.
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(releases).toHaveLength(1);
    releases[0]!();
    await eventually(() => releases.length === 2, 5_000, 'the next pass after the first ended');
    const stopping = task.stop();
    releases[1]!();
    await stopping;
  });

  it('logs a failed pass and tries again at the next tick', async () => {
    const warnings: unknown[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    let calls = 0;
    const task = new PeriodicTask(
      async () => {
        calls++;
        if (calls === 1) throw new Error('postgres is down');
      },
      logger,
      'sweep failed; will retry',
    );
    task.start(10);
    await eventually(() => calls >= 2, 5_000, 'a pass after the failed one');
    await task.stop();
    expect(warnings[0]).toMatchObject({ msg: 'sweep failed; will retry', err: { message: 'postgres is down' } });
  });

  it('stop() stops the timer and waits for the pass in progress', async () => {
    const { pass, releases } = heldPasses();
    const task = new PeriodicTask(pass, silent, 'failed');
    task.start(10);
    let stopped = false;
    const stopping = task.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    releases[0]!();
    await stopping;
    // No tick after stop.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(releases).toHaveLength(1);
  });
});
