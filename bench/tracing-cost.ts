/**
 * What tracing costs on the write path: the API server's own CPU time per `POST /api/values`, read from
 * /proc while autocannon drives 50 connections, for the server
 *   - with tracing off (no OTLP endpoint: the preload loads nothing),
 *   - with tracing on (every request traced and exported over OTLP/HTTP protobuf to a local sink),
 *   - with tracing on and 1 trace in 10 sampled (OTEL_TRACES_SAMPLER=parentbased_traceidratio),
 *   - and, with `--baseline DIR`, a built checkout of another commit (e.g. main before tracing existed).
 * Variants alternate round by round on the same Postgres and Redis, which are emptied between runs, so
 * machine noise spreads over all of them; the medians and their ratios are printed.
 *
 *   npm run build && npx tsx bench/tracing-cost.ts [--baseline DIR] [--seconds 10] [--rounds 3]
 *
 * Linux only (/proc). Not part of `npm run bench` yet: see the tracing section of observability/README.md.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import pg from 'pg';
import { freePort } from '@fibstack/devstack/ports';
import { startPostgres } from '@fibstack/devstack/postgres';
import { startRedis } from '@fibstack/devstack/redis';
import { REPO_ROOT, SERVER_NODE_FLAGS } from '@fibstack/devstack/stack';

const { values: args } = parseArgs({
  options: { baseline: { type: 'string' }, seconds: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONNECTIONS = 50;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Variant {
  name: string;
  root: string;
  preload: boolean;
  env: Record<string, string>;
}

/** User + system CPU of a process so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** Accepts OTLP exports and discards them: the cost measured is the server's, not a collector's. */
async function startSink(): Promise<{ url: string; requests: () => number; close: () => void }> {
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, close: () => server.close() };
}

async function startServer(variant: Variant, env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const flags = [...SERVER_NODE_FLAGS, ...(variant.preload ? ['--import', '@fibstack/service-kit/tracing/preload'] : [])];
  const child = spawn(process.execPath, [...flags, 'server/dist/main.js'], {
    cwd: variant.root,
    env: { PATH: process.env.PATH, ...env, ...variant.env, PORT: String(port), LOG_LEVEL: 'warn', SHUTDOWN_DRAIN_MS: '0' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt++) {
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok) return { child, url };
    if (attempt > 200 || child.exitCode !== null) throw new Error(`${variant.name}: the server did not start`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function load(url: string, seconds: number, first: number) {
  let next = first;
  return autocannon({
    url: `${url}/api/values`,
    connections: CONNECTIONS,
    duration: seconds,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: JSON.stringify({ index: next++ % 100_001 }) }) }],
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-tracing-cost-'));
// Run as root, Postgres runs as its own OS user, which must be able to reach its data directory.
await chmod(dataDir, 0o755);
const postgres = await startPostgres({ dataDir: join(dataDir, 'postgres'), port: await freePort(), persistent: false });
const redis = await startRedis({ port: await freePort(), dataDir: join(dataDir, 'redis') });
const sink = await startSink();
try {
  const databaseUrl = await postgres.createDatabase('fibstack');
  const shared = { DATABASE_URL: databaseUrl, REDIS_URL: redis.url };
  await new Promise<void>((resolve, reject) =>
    spawn(process.execPath, ['server/dist/migrate.js'], { cwd: REPO_ROOT, env: { ...process.env, ...shared }, stdio: 'inherit' }).on(
      'exit',
      (code) => (code === 0 ? resolve() : reject(new Error('migrations failed'))),
    ),
  );
  const variants: Variant[] = [
    ...(args.baseline ? [{ name: `baseline (${args.baseline})`, root: args.baseline, preload: false, env: {} }] : []),
    { name: 'tracing off', root: REPO_ROOT, preload: true, env: {} },
    { name: 'tracing on', root: REPO_ROOT, preload: true, env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url } },
    {
      name: 'tracing on, 10% sampled',
      root: REPO_ROOT,
      preload: true,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
    },
  ];
  const pool = new pg.Pool({ connectionString: databaseUrl });
  const flusher = new Redis(redis.url);
  const samples = new Map(variants.map((variant) => [variant.name, [] as Array<{ usPerRequest: number; rps: number }>]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const variant of variants) {
      await pool.query('TRUNCATE submitted_indexes, results');
      await flusher.flushall();
      const server = await startServer(variant, shared);
      await load(server.url, 2, 0); // warm-up: JIT, pools, connections
      const before = cpuMs(server.child.pid!);
      const result = await load(server.url, SECONDS, 50_000);
      const spent = cpuMs(server.child.pid!) - before;
      server.child.kill('SIGTERM');
      await new Promise((resolve) => server.child.once('exit', resolve));
      const answered = result['2xx'];
      samples.get(variant.name)!.push({ usPerRequest: (spent * 1000) / answered, rps: answered / SECONDS });
      console.log(
        `round ${round} ${variant.name}: ${Math.round((spent * 1000) / answered)} µs CPU/request, ${Math.round(answered / SECONDS)} req/s, non-2xx ${result.non2xx}`,
      );
    }
  }
  await pool.end();
  flusher.disconnect();
  const table = variants.map((variant) => {
    const runs = samples.get(variant.name)!;
    return {
      variant: variant.name,
      'µs CPU per request (median)': Math.round(median(runs.map((run) => run.usPerRequest))),
      'req/s (median)': Math.round(median(runs.map((run) => run.rps))),
    };
  });
  console.table(table);
  const cost = (name: string) => table.find((row) => row.variant === name)!['µs CPU per request (median)'];
  console.log(`tracing on / tracing off: ${(cost('tracing on') / cost('tracing off')).toFixed(2)}×`);
  console.log(`tracing on, 10% sampled / tracing off: ${(cost('tracing on, 10% sampled') / cost('tracing off')).toFixed(2)}×`);
  if (args.baseline) console.log(`tracing off / baseline: ${(cost('tracing off') / cost(variants[0]!.name)).toFixed(2)}×`);
  console.log(`OTLP export requests received by the sink: ${sink.requests()}`);
} finally {
  sink.close();
  await redis.stop();
  await postgres.stop();
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(0);
