import { monitorEventLoopDelay } from 'node:perf_hooks';
import { computeFibonacci } from '../worker/src/fibonacci/fibonacci.js';
import { FibonacciPool } from '../worker/src/fibonacci/pool.js';
import { machineLoad } from './cpu.js';
import { round } from './stats.js';

/** The worker's algorithm: fib(n) with its decimal string, growth per doubling, and event-loop delay while the pool computes. */
export async function compute({ sizes, parallel }: { sizes: number[]; parallel: number }) {
  const time = (n: number) => {
    const runs = n >= 1_000_000 ? 3 : 10;
    return Math.min(...Array.from({ length: runs }, () => computeFibonacci(n).computeMs));
  };
  const times = Object.fromEntries(sizes.map((n) => [n, round(time(n), 2)]));
  const pool = new FibonacciPool(2, 60_000);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  try {
    await pool.compute(5_000); // thread start-up outside the measurement
    delay.enable();
    await Promise.all(Array.from({ length: parallel }, () => pool.compute(1_000_000)));
    delay.disable();
  } finally {
    await pool.close();
  }
  return {
    ms: times,
    doublingRatio: round(times[sizes.at(-1)!]! / times[sizes.at(-2)!]!),
    eventLoopDelayMaxMsWhileComputing: round(delay.max / 1e6),
    load: machineLoad(),
  };
}
