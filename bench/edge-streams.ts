import { rm } from 'node:fs/promises';
import { freePort } from '@fibstack/devstack/ports';
import { edgeLayout, edgeStreamLimit, runNginx } from '../tests/support/nginx.js';
import { openStream, send, type HeldStream } from '../tests/hostile/from-address.js';
import type { BenchStack } from './bench-stack.js';
import { nginxPids, rssMb } from './cpu.js';
import { percentile, round } from './stats.js';

/** Resident memory of an nginx master and its workers, MB. */
function nginxRssMb(masterPid: number): number {
  return round(
    nginxPids(masterPid).reduce((sum, pid) => sum + rssMb(pid), 0),
    1,
  );
}

/** A visitor's requests (a page, a list read, a submission), each from an address of its own; ms each. */
async function visitorLatencies(port: number, visitors: number, firstIndex: number): Promise<{ p50: number; p99: number; failed: number }> {
  const timings: number[] = [];
  let failed = 0;
  for (let i = 0; i < visitors; i++) {
    const from = `127.0.4.${(i % 250) + 1}`;
    for (const call of [
      { from, path: '/' },
      { from, path: '/api/values?limit=20' },
      { from, method: 'POST' as const, path: '/api/values', body: JSON.stringify({ index: firstIndex + i }) },
    ]) {
      const answer = await send(port, call).catch(() => undefined);
      if (answer && answer.status < 300) timings.push(answer.ms);
      else failed++;
    }
  }
  return { p50: round(percentile(timings, 50), 1), p99: round(percentile(timings, 99), 1), failed };
}

/**
 * The edge as shipped (one worker: the case its worker_connections are sized for) in front of the bench
 * stack: its memory and a new visitor's latency idle, then with every event stream it admits held open
 * (as many from each of as many addresses as it takes), and what the next stream meets.
 */
export async function edgeStreams(bench: BenchStack, options: { visitors: number }) {
  const perClient = await edgeStreamLimit('edge_streams_per_client');
  const total = await edgeStreamLimit('edge_streams_total');
  const port = await freePort();
  const upstream = new URL(bench.stack.serverUrl).host;
  const layout = await edgeLayout({ templates: 'templates', port, serverUpstream: upstream, clientUpstream: upstream, workerProcesses: 1 });
  const edge = await runNginx(layout, port);
  const held: HeldStream[] = [];
  try {
    const idle = { nginxRssMb: nginxRssMb(edge.process.pid!), visitor: await visitorLatencies(port, options.visitors, 7_000_000) };
    const started = performance.now();
    for (let client = 0; held.length < total; client++) {
      const from = `127.0.5.${client + 1}`;
      const opened = await Promise.all(Array.from({ length: Math.min(perClient, total - held.length) }, () => openStream(port, from)));
      held.push(...opened);
      if (opened.some((stream) => stream.status !== 200)) break;
    }
    const openSeconds = round((performance.now() - started) / 1000, 1);
    const next = await openStream(port, '127.0.6.1');
    held.push(next);
    return {
      streamsHeld: held.filter((stream) => stream.status === 200).length,
      openSeconds,
      nextStream: { status: next.status, body: next.text() },
      idle,
      full: {
        nginxRssMb: nginxRssMb(edge.process.pid!),
        serverRssMb: rssMb(bench.stack.pid('server')),
        visitor: await visitorLatencies(port, options.visitors, 7_100_000),
      },
    };
  } finally {
    for (const stream of held) stream.close();
    await edge.stop();
    await rm(layout.prefix, { recursive: true, force: true });
  }
}
