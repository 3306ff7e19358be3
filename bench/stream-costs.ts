import { connect, type Socket } from 'node:net';
import { fibonacciJob } from '@fibstack/contract/jobs';
import { sleep } from '@fibstack/devstack/testkit';
import type { BenchStack } from './bench-stack.js';
import { machineLoad, ownCpuUs, processCpuUs, rssMb } from './cpu.js';
import { percentile, round } from './stats.js';
import { waitUntil } from './wait.js';

export interface StreamCostOptions {
  /** Stream counts measured in full: memory per stream, CPU per delivered event, delay. */
  counts: number[];
  /** Results stored per second while the streams are open (each is delivered to every stream). */
  eventsPerSecond: number;
  /** How long results are stored at that rate, per count. */
  seconds: number;
  /** After `counts`, the count doubles until the delay's p99 passes this, or the count passes `maxStreams`. */
  delayLimitMs: number;
  maxStreams: number;
}

/** One open `GET /api/events` on a raw socket: the cheapest reader, so the server's cost is what shows. */
interface Reader {
  socket: Socket;
  ready: Promise<boolean>;
  events: number;
}

/**
 * Opens `count` streams straight to the server, each counting its result events and recording, per
 * event, how long after it was stored (the event's computedAt, Postgres' clock: the same machine's) it
 * arrived here.
 */
function openReader(host: string, port: number, delays: number[]): Reader {
  {
    const socket = connect(port, host);
    const reader: Reader = { socket, ready: Promise.resolve(false), events: 0 };
    let pending = '';
    reader.ready = new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(false));
      socket.once('close', () => resolve(false));
      socket.on('data', (chunk: Buffer) => {
        const now = Date.now();
        pending += chunk.toString('latin1');
        if (pending.includes('event: ready')) resolve(true);
        // Whole frames only; the rest waits for the next chunk.
        const end = pending.lastIndexOf('\n\n');
        if (end < 0) return;
        const frames = pending.slice(0, end);
        pending = pending.slice(end + 2);
        for (let at = frames.indexOf('"computedAt":"'); at >= 0; at = frames.indexOf('"computedAt":"', at + 1)) {
          reader.events++;
          delays.push(now - Date.parse(frames.slice(at + 14, at + 38)));
        }
      });
    });
    socket.write(`GET /api/events HTTP/1.1\r\nHost: ${host}:${port}\r\nAccept: text/event-stream\r\n\r\n`);
    return reader;
  }
}

/** `count` readers, opened a few hundred at a time (all at once would overflow the server's accept queue). */
async function openReaders(host: string, port: number, count: number, delays: number[]): Promise<{ readers: Reader[]; opened: number }> {
  const readers: Reader[] = [];
  let opened = 0;
  for (let first = 0; first < count; first += 250) {
    const batch = Array.from({ length: Math.min(250, count - first) }, () => openReader(host, port, delays));
    readers.push(...batch);
    opened += (await Promise.all(batch.map((reader) => reader.ready))).filter(Boolean).length;
  }
  return { readers, opened };
}

/**
 * What open event streams cost one API process, from the bench stack's server (its per-process caps
 * raised by the benchmark): resident memory per open stream, server CPU per event delivered to one
 * stream, and how long after it was stored a result reaches the streams (p50/p99), at each count, while
 * results are stored at a steady rate. Results come from the worker, queued straight into BullMQ, so the
 * server's CPU is the streams' alone (no POST to handle). The streams are read here, on the same cores:
 * the reader's CPU is reported beside the server's, and a delay includes the reader's share of the cores.
 */
export async function streamCosts(bench: BenchStack, options: StreamCostOptions) {
  await bench.reset();
  // A server that dies under the streams (its heap is capped as in its image: SERVER_NODE_FLAGS) delivers
  // nothing more: say so, rather than report a count that merely delivered nothing.
  let exited: string | undefined;
  void bench.stack.failed.then((why) => (exited = why));
  const server = new URL(bench.stack.serverUrl);
  let nextIndex = 1_000;
  const rows = [];
  let delayPassedAt: number | undefined;
  for (let count = options.counts[0]!, step = 0; ; step++) {
    const delays: number[] = [];
    await sleep(500);
    const idleRssMb = rssMb(bench.stack.pid('server'));
    const { readers, opened } = await openReaders(server.hostname, Number(server.port), count, delays);
    // Let the allocations of opening settle before reading the memory the streams hold.
    await sleep(1_000);
    const openRssMb = rssMb(bench.stack.pid('server'));
    const serverCpu = processCpuUs(bench.stack.pid('server'));
    const readerCpu = ownCpuUs();
    const started = performance.now();
    const results = Math.round(options.eventsPerSecond * options.seconds);
    for (let i = 0; i < results; i++) {
      await bench.queue.add(...spread(fibonacciJob({ index: nextIndex++, requestId: 'bench-streams' })));
      await sleep(Math.max(0, started + ((i + 1) * 1_000) / options.eventsPerSecond - performance.now()));
    }
    // Every result delivered to every stream that opened, or the wait ends and the shortfall shows.
    const expected = results * opened;
    const delivered = () => readers.reduce((sum, reader) => sum + reader.events, 0);
    const caughtUp = await waitUntil(() => delivered() >= expected, { timeoutMs: 30_000, intervalMs: 50, what: `${expected} deliveries` });
    const serverCpuUs = processCpuUs(bench.stack.pid('server')) - serverCpu;
    const readerCpuUs = ownCpuUs() - readerCpu;
    for (const reader of readers) reader.socket.destroy();
    const p99 = percentile(delays, 99);
    rows.push({
      streams: count,
      opened,
      rssMbPerStream: round((openRssMb - idleRssMb) / Math.max(opened, 1), 4),
      serverRssMb: openRssMb,
      results,
      delivered: delivered(),
      ...(caughtUp.ok ? {} : { timedOut: caughtUp.timedOut }),
      serverCpuUsPerDelivered: round(serverCpuUs / Math.max(delivered(), 1), 2),
      readerCpuUsPerDelivered: round(readerCpuUs / Math.max(delivered(), 1), 2),
      delayP50Ms: percentile(delays, 50),
      delayP99Ms: p99,
      ...(exited && { serverExited: exited }),
      load: machineLoad(),
    });
    if (delayPassedAt === undefined && (p99 > options.delayLimitMs || !caughtUp.ok)) delayPassedAt = count;
    if (exited) break;
    // The listed counts always; past them, doubling until the delay passes the limit.
    const following = step + 1 < options.counts.length ? options.counts[step + 1]! : count * 2;
    if (following > options.maxStreams || (step + 1 >= options.counts.length && delayPassedAt !== undefined)) break;
    count = following;
    // The server notices the closed streams before the next count opens.
    await sleep(1_000);
  }
  const at1000 = rows.find((row) => row.streams === 1_000);
  return {
    eventsPerSecond: options.eventsPerSecond,
    rows,
    // The first count whose p99 passed the limit (undefined: none up to maxStreams did).
    delayP99PassesLimitAt: delayPassedAt,
    delayLimitMs: options.delayLimitMs,
    ...(at1000 && { rssMbPerStreamAt1000: at1000.rssMbPerStream, serverCpuUsPerDeliveredAt1000: at1000.serverCpuUsPerDelivered }),
  };
}

/** A job as `Queue.add` takes it: name, data, options. */
function spread(job: ReturnType<typeof fibonacciJob>) {
  return [job.name, job.data, job.opts] as const;
}
