import { parentPort } from 'node:worker_threads';
import { computeFibonacci } from './fibonacci.js';

/** Runs inside a worker thread: one request in, one computed value out. */
parentPort?.on('message', (n: number) => parentPort?.postMessage(computeFibonacci(n)));
