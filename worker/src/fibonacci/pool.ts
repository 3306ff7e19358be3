import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { computeFibonacci, type ComputedValue } from './fibonacci.js';

/**
 * Up to this index computing costs about what a thread hop does, so such values are computed in place
 * and the event loop is held for a few hundredths of a millisecond at most. Measured on the 2-core CI
 * machine (medians): the hop — postMessage, wake-up, reply — adds ~0.03–0.05 ms; fib(5,000) with its
 * decimal string takes 0.02 ms, fib(10,000) 0.05 ms, fib(20,000) 0.15 ms.
 */
export const INLINE_MAX_INDEX = 10_000;

/** Raised when a computation runs over the pool's time limit. */
class ComputeTimeoutError extends Error {
  override name = 'ComputeTimeoutError';
}

interface Task {
  n: number;
  resolve: (value: ComputedValue) => void;
  reject: (error: Error) => void;
  /** When a thread took it (performance.now()). */
  startedAt?: number;
}

/** What the pool is doing, for the worker's metrics. */
export interface PoolUsage {
  threads: number;
  busy: number;
  waiting: number;
  /** Thread time spent computing since start, summed over threads; its rate over `threads` is the utilisation. */
  busySeconds: number;
}

const closedError = () => new Error('the compute pool is closed');

/**
 * A fixed set of worker threads for big values, so the main thread stays free to renew BullMQ job
 * locks and talk to Redis and Postgres. A computation over `timeoutMs` is abandoned: its thread is
 * terminated and replaced, and the task fails with ComputeTimeoutError. Tasks wait in line for a thread;
 * the time limit starts when a thread takes the task.
 */
export class FibonacciPool {
  /** Threads still loading; each joins `idle` when it says `ready`. */
  private readonly starting = new Set<Worker>();
  private readonly idle: Worker[] = [];
  /** Each running thread, with the task it runs. */
  private readonly busy = new Map<Worker, Task>();
  private readonly waiting: Task[] = [];
  private closed = false;
  private finishedBusyMs = 0;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
  ) {
    for (let i = 0; i < size; i++) this.start();
  }

  /** Fibonacci(n) as decimal digits, computed in place when small and on a thread otherwise. */
  compute(n: number): Promise<ComputedValue> {
    if (this.closed) return Promise.reject(closedError());
    if (n <= INLINE_MAX_INDEX) return Promise.resolve(computeFibonacci(n));
    return new Promise((resolve, reject) => {
      this.waiting.push({ n, resolve, reject });
      this.dispatch();
    });
  }

  usage(): PoolUsage {
    const now = performance.now();
    let runningMs = 0;
    for (const task of this.busy.values()) runningMs += now - (task.startedAt ?? now);
    return {
      threads: this.size,
      busy: this.busy.size,
      waiting: this.waiting.length,
      busySeconds: (this.finishedBusyMs + runningMs) / 1000,
    };
  }

  /** Fails the waiting and running tasks and terminates every thread. */
  async close(): Promise<void> {
    this.closed = true;
    const tasks = [...this.waiting.splice(0), ...this.busy.values()];
    const threads = [...this.starting, ...this.idle.splice(0), ...this.busy.keys()];
    this.starting.clear();
    this.busy.clear();
    for (const task of tasks) task.reject(closedError());
    await Promise.all(threads.map((thread) => thread.terminate()));
  }

  /** Spawns a thread; a thread that fails to load is replaced a second later. */
  private start(): void {
    const thread = spawnThread();
    this.starting.add(thread);
    const loaded = (ok: boolean) => {
      thread.removeAllListeners('message').removeAllListeners('error');
      if (!this.starting.delete(thread)) return;
      if (ok) {
        this.idle.push(thread);
        this.dispatch();
      } else {
        void thread.terminate();
        setTimeout(() => this.closed || this.start(), 1_000).unref();
      }
    };
    thread.once('message', () => loaded(true));
    thread.once('error', () => loaded(false));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.waiting.length > 0) this.run(this.idle.pop()!, this.waiting.shift()!);
  }

  private run(thread: Worker, task: Task): void {
    task.startedAt = performance.now();
    this.busy.set(thread, task);
    const finish = (settle: () => void, reusable: boolean) => {
      clearTimeout(timer);
      this.finishedBusyMs += performance.now() - task.startedAt!;
      thread.removeAllListeners('message').removeAllListeners('error');
      if (!this.busy.delete(thread)) return; // close() has failed the task and terminated the thread
      if (reusable) this.idle.push(thread);
      else {
        void thread.terminate();
        this.start();
      }
      settle();
      this.dispatch();
    };
    const timer = setTimeout(
      () => finish(() => task.reject(new ComputeTimeoutError(`fib(${task.n}) took over ${this.timeoutMs} ms`)), false),
      this.timeoutMs,
    );
    thread.once('message', (result: ComputedValue) => finish(() => task.resolve(result), true));
    thread.once('error', (error) => finish(() => task.reject(error), false));
    thread.postMessage(task.n);
  }
}

function spawnThread(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./thread.js', import.meta.url));
  // From source (development, with tsx) and in tests this module is TypeScript, and so is its thread:
  // the thread registers tsx before loading it.
  const thread = JSON.stringify(new URL('./thread.ts', import.meta.url).href);
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${thread}); })`, {
    eval: true,
  });
}
