import { Worker } from 'node:worker_threads';
import { computeFibonacci, type ComputedValue } from './fibonacci.js';

/**
 * Up to this index computing costs less than a round trip to a thread, so such values are computed in
 * place. Measured on the 2-core CI machine: fib(20,000) with its decimal string takes ~0.23 ms, a
 * round trip to a thread ~0.2–0.4 ms; the event loop is never held for more than a quarter millisecond.
 */
export const INLINE_MAX_INDEX = 20_000;

interface Task {
  n: number;
  resolve: (value: ComputedValue) => void;
  reject: (error: Error) => void;
}

export class ComputeTimeoutError extends Error {
  override name = 'ComputeTimeoutError';
}

/**
 * A fixed set of worker threads for big values, so the main thread stays free to renew BullMQ job
 * locks and talk to Redis. A computation over `timeoutMs` is abandoned: its thread is terminated and
 * replaced, and the task fails with ComputeTimeoutError.
 */
export class FibonacciPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Task[] = [];
  private closed = false;

  constructor(
    private readonly size: number,
    private readonly timeoutMs: number,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  compute(n: number): Promise<ComputedValue> {
    if (n <= INLINE_MAX_INDEX) return Promise.resolve(computeFibonacci(n));
    if (this.closed) return Promise.reject(new Error('the compute pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ n, resolve, reject });
      this.drain();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('the compute pool is closed'));
    await Promise.all(this.idle.splice(0).map((thread) => thread.terminate()));
  }

  private spawn(): Worker {
    if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./thread.js', import.meta.url));
    // Under `tsx watch` (development) and in tests this module is TypeScript, and so is its thread:
    // the thread registers tsx before loading it.
    const thread = JSON.stringify(new URL('./thread.ts', import.meta.url).href);
    return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${thread}); })`, {
      eval: true,
    });
  }

  private drain(): void {
    while (this.idle.length > 0 && this.queue.length > 0) this.run(this.idle.pop()!, this.queue.shift()!);
  }

  private run(thread: Worker, task: Task): void {
    const finish = (settle: () => void, replacement: Worker) => {
      clearTimeout(timer);
      thread.removeAllListeners('message').removeAllListeners('error');
      if (this.closed) void replacement.terminate();
      else this.idle.push(replacement);
      settle();
      this.drain();
    };
    const timer = setTimeout(() => {
      void thread.terminate();
      finish(() => task.reject(new ComputeTimeoutError(`fib(${task.n}) took over ${this.timeoutMs} ms`)), this.spawn());
    }, this.timeoutMs);
    thread.once('message', (result: ComputedValue) => finish(() => task.resolve(result), thread));
    thread.once('error', (error) => finish(() => task.reject(error), this.spawn()));
    thread.postMessage(task.n);
  }
}
