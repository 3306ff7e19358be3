import { parentPort } from 'node:worker_threads';
import { computeFibonacci } from './fibonacci.js';
/**
 * Runs inside a worker thread: says `ready` once loaded (so the pool's timeout never counts start-up),
 * then answers each index with its computed value.
 */
parentPort?.on('message', (n) => parentPort?.postMessage(computeFibonacci(n)));
parentPort?.postMessage('ready');
//# sourceMappingURL=thread.js.map