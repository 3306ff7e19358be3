import { type ComputedValue } from './fibonacci.js';
/**
 * Up to this index computing costs about what a thread hop does, so such values are computed in place
 * and the event loop is held for a few hundredths of a millisecond at most. Measured on the 2-core CI
 * machine (medians): the hop — postMessage, wake-up, reply — adds ~0.03–0.05 ms; fib(5,000) with its
 * decimal string takes 0.02 ms, fib(10,000) 0.05 ms, fib(20,000) 0.15 ms.
 */
export declare const INLINE_MAX_INDEX = 10000;
/** Raised when a computation runs over the pool's time limit. */
export declare class ComputeTimeoutError extends Error {
    name: string;
}
/**
 * A fixed set of worker threads for big values, so the main thread stays free to renew BullMQ job
 * locks and talk to Redis and Postgres. A computation over `timeoutMs` is abandoned: its thread is
 * terminated and replaced, and the task fails with ComputeTimeoutError. Tasks wait in line for a thread;
 * the time limit starts when a thread takes the task.
 */
export declare class FibonacciPool {
    private readonly timeoutMs;
    /** Threads still loading; each joins `idle` when it says `ready`. */
    private readonly starting;
    private readonly idle;
    /** Each running thread, with the task it runs. */
    private readonly busy;
    private readonly waiting;
    private closed;
    constructor(size: number, timeoutMs: number);
    /** Fibonacci(n) as decimal digits, computed in place when small and on a thread otherwise. */
    compute(n: number): Promise<ComputedValue>;
    /** Fails the waiting and running tasks and terminates every thread. */
    close(): Promise<void>;
    /** Spawns a thread; a thread that fails to load is replaced a second later. */
    private start;
    private dispatch;
    private run;
}
