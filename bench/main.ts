/**
 * `npm run bench`: measures the whole pipeline on this machine, loopback only, in a few minutes.
 * Starts the native stack (real Postgres, Redis, server, worker) in a temporary directory, prints a
 * table and writes bench/results/latest.json. `--smoke` runs every step briefly (CI keeps it working).
 * It reports; it never fails on timing.
 */
import { fork, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from '@fibstack/devstack/ports';
import { REPO_ROOT, startNativeStack, type NativeStack, type ServiceName } from '@fibstack/devstack/stack';
import { computeFibonacci } from '../worker/src/fibonacci/fibonacci.js';
import { FibonacciPool } from '../worker/src/fibonacci/pool.js';
import { getPath, postEach, postIndexes, type LoadResult } from './http-load.js';

const smoke = process.argv.includes('--smoke');
const seconds = smoke ? 1 : 5;
const results: Record<string, unknown> = {};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};

function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return round(Number(line.replace(/\D+/g, '')) / 1024, 1);
}

async function startBareExpress(): Promise<{ url: string; stop: () => void }> {
  const port = await freePort();
  const child = fork(fileURLToPath(new URL('./bare-express.ts', import.meta.url)), {
    env: { ...process.env, PORT: String(port) },
    execArgv: ['--import', 'tsx'],
  });
  await new Promise((resolve) => child.once('message', resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

async function resetData(stack: NativeStack, pool: pg.Pool) {
  await pool.query('TRUNCATE submissions, results RESTART IDENTITY');
  const redis = new Redis(stack.redisUrl);
  await redis.flushall();
  redis.disconnect();
}

async function count(pool: pg.Pool, table: string): Promise<number> {
  return (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
}

/** 1. POST throughput and latency against the bare-Express ceiling, worker stopped (queue only). */
async function writePath(stack: NativeStack) {
  const bare = await startBareExpress();
  const rows: Array<LoadResult & { app: string; ratio?: number }> = [];
  let footprintUnderLoad = 0;
  try {
    // Warm both up (JIT, connection pools, Postgres caches) before anything is measured.
    await postIndexes(bare.url, 10, smoke ? 1 : 2, 0, 100_000);
    await postIndexes(stack.url, 10, smoke ? 1 : 2, 60_000, 100_000);
    for (const connections of [1, 10, 50]) {
      const ceiling = await postIndexes(bare.url, connections, seconds, 0, 100_000);
      const rssDuring = new Promise<number>((resolve) => setTimeout(() => resolve(rssMb(stack.pid('server'))), seconds * 500));
      const ours = await postIndexes(stack.url, connections, seconds, connections * 1_000, 100_000);
      footprintUnderLoad = Math.max(footprintUnderLoad, await rssDuring);
      rows.push({ app: 'bare express', ...ceiling }, { app: 'fibstack', ...ours, ratio: round(ours.requestsPerSecond / ceiling.requestsPerSecond) });
    }
  } finally {
    bare.stop();
  }
  results.writePath = rows;
  results.serverRssUnderLoadMb = footprintUnderLoad;
}

/** 2. 10,000 distinct submissions (0…9,999, shuffled) over 50 connections until every value is stored in Postgres. */
async function pipeline(stack: NativeStack, pool: pg.Pool) {
  const total = smoke ? 500 : 10_000;
  const indexes = Array.from({ length: total }, (_, i) => (i * 7_919) % total);
  const started = performance.now();
  let workerRss = 0;
  const sampler = setInterval(() => (workerRss = Math.max(workerRss, rssMb(stack.pid('worker')))), 200);
  const submitted = await postEach(stack.url, 50, indexes);
  const submittedMs = performance.now() - started;
  // A lost job would never arrive: give up a minute after the last submission and report it as lost.
  const giveUpAt = performance.now() + 60_000;
  while ((await count(pool, 'results')) < total && performance.now() < giveUpAt) await sleep(20);
  clearInterval(sampler);
  const totalMs = performance.now() - started;
  results.pipeline = {
    submissions: total,
    submitMs: Math.round(submittedMs),
    allStoredMs: Math.round(totalMs),
    jobsPerSecond: Math.round(total / (totalMs / 1000)),
    rejected: submitted.non2xx + submitted.errors,
    lost: total - (await count(pool, 'results')),
  };
  results.workerRssUnderLoadMb = workerRss;
}

/** 3. Submit → visible latency for small indexes on an idle system: to a readable value, and to the SSE event. */
async function visibleLatency(stack: NativeStack, pool: pg.Pool) {
  await resetData(stack, pool);
  const indexes = Array.from({ length: smoke ? 20 : 200 }, (_, i) => (i * 5) % 1_000);
  const events = await fetch(`${stack.url}/api/events`);
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const readable: number[] = [];
  const streamed: number[] = [];
  for (const index of [...new Set(indexes)]) {
    const started = performance.now();
    const sse = (async () => {
      while (!buffer.includes(`"index":${index},`)) buffer += (await reader.read()).value ?? '';
      buffer = '';
      streamed.push(performance.now() - started);
    })();
    await fetch(`${stack.url}/api/values`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ index }) });
    for (;;) {
      const detail = (await (await fetch(`${stack.url}/api/values/${index}`)).json()) as { status: string };
      if (detail.status === 'done') break;
    }
    readable.push(performance.now() - started);
    await sse;
    await sleep(10);
  }
  await reader.cancel();
  results.submitToVisible = {
    samples: readable.length,
    readableP50Ms: round(percentile(readable, 50)),
    readableP99Ms: round(percentile(readable, 99)),
    sseP50Ms: round(percentile(streamed, 50)),
    sseP99Ms: round(percentile(streamed, 99)),
  };
}

/** 4. GET /api/values?limit=50 with 10,000 and with 1,000,000 rows (first page and a deep page). */
async function listing(stack: NativeStack, pool: pg.Pool) {
  await resetData(stack, pool);
  const sizes = smoke ? [10_000, 50_000] : [10_000, 1_000_000];
  const rows: Array<Record<string, number>> = [];
  for (const size of sizes) {
    const have = await count(pool, 'submissions');
    await pool.query(
      `INSERT INTO submissions (index, submitted_at) SELECT g % 100000, now() FROM generate_series($1::int, $2::int - 1) AS g`,
      [have, size],
    );
    await pool.query(
      `INSERT INTO results (index, value, digits, compute_ms)
       SELECT g, repeat('7', 1 + g % 300), 1 + g % 300, 0.1 FROM generate_series(0, 99999) AS g ON CONFLICT DO NOTHING`,
    );
    // Settle the bulk load first, so background vacuum or checkpoint I/O does not land in the measurement.
    await pool.query('VACUUM ANALYZE submissions, results');
    await pool.query('CHECKPOINT');
    const first = await getPath(stack.url, '/api/values?limit=50', 1, seconds);
    const deep = await getPath(stack.url, `/api/values?limit=50&cursor=${Math.floor(size / 2)}`, 1, seconds);
    rows.push({ rows: size, firstPageP99Ms: first.p99Ms, firstPageRps: first.requestsPerSecond, deepPageP99Ms: deep.p99Ms });
  }
  results.listing = { rows, ratioP99: round(rows[1]!.firstPageP99Ms! / Math.max(rows[0]!.firstPageP99Ms!, 1)) };
}

/** 5. The worker's algorithm: fib(10^4 … 10^6) with the decimal string, growth per doubling, event-loop delay. */
async function compute() {
  const time = (n: number) => {
    const runs = n >= 1_000_000 ? 3 : 10;
    return Math.min(...Array.from({ length: runs }, () => computeFibonacci(n).computeMs));
  };
  const ns = smoke ? [10_000, 100_000, 200_000] : [10_000, 100_000, 500_000, 1_000_000, 2_000_000];
  const times = Object.fromEntries(ns.map((n) => [n, round(time(n), 2)]));
  const pool = new FibonacciPool(2, 60_000);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  await pool.compute(5_000); // thread start-up outside the measurement
  delay.enable();
  await Promise.all(Array.from({ length: smoke ? 2 : 6 }, () => pool.compute(1_000_000)));
  delay.disable();
  await pool.close();
  results.compute = {
    ms: times,
    doublingRatio: round(times[ns[ns.length - 1]!]! / times[ns[ns.length - 2]!]!),
    eventLoopDelayMaxMsWhileComputing: round(delay.max / 1e6),
  };
}

/** 6. Memory of server and worker when idle, client bundle size, and container images when built. */
function footprint(stack: NativeStack) {
  const assets = join(REPO_ROOT, 'client/dist/assets');
  const gzipped = (ext: string) =>
    readdirSync(assets)
      .filter((file) => file.endsWith(ext))
      .reduce((sum, file) => sum + gzipSync(readFileSync(join(assets, file))).length, 0);
  const services: ServiceName[] = ['server', 'worker'];
  results.idleRssMb = Object.fromEntries(services.map((name) => [name, rssMb(stack.pid(name))]));
  results.clientGzipKb = { js: round(gzipped('.js') / 1024, 1), css: round(gzipped('.css') / 1024, 1) };
  try {
    const size = (image: string) => Number(execFileSync('docker', ['image', 'inspect', '-f', '{{.Size}}', image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    results.imageMb = Object.fromEntries(
      ['server', 'worker', 'client', 'nginx'].map((name) => [name, round(size(`fibstack-${name}:local`) / 1e6, 1)]),
    );
  } catch {
    results.imageMb = 'no Docker images built here (npm run test:containers builds them)';
  }
}

const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-bench-'));
const stack = await startNativeStack({ port: await freePort(), dataDir, persistent: false, output: { logDir: join(dataDir, 'logs') }, env: { LOG_LEVEL: 'warn' } });
const pool = new pg.Pool({ connectionString: stack.databaseUrl });
try {
  results.machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, mode: smoke ? 'smoke' : 'full' };
  await sleep(1_000);
  footprint(stack);
  await stack.stopService('worker');
  await writePath(stack);
  await resetData(stack, pool);
  await stack.startService('worker');
  await pipeline(stack, pool);
  await visibleLatency(stack, pool);
  await listing(stack, pool);
  await compute();
} finally {
  await pool.end();
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}

console.log('\nmachine', results.machine);
console.log('\n1. write path: POST /api/values (worker stopped), ours vs bare Express');
console.table(results.writePath);
console.log('\n2. pipeline', results.pipeline);
console.log('\n3. submit → visible', results.submitToVisible);
console.log('\n4. listing GET /api/values?limit=50');
console.table((results.listing as { rows: unknown[] }).rows);
console.log('\n5. compute', results.compute);
console.log('\n6. footprint', { idleRssMb: results.idleRssMb, serverRssUnderLoadMb: results.serverRssUnderLoadMb, workerRssUnderLoadMb: results.workerRssUnderLoadMb, clientGzipKb: results.clientGzipKb, imageMb: results.imageMb });
writeFileSync(join(REPO_ROOT, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
