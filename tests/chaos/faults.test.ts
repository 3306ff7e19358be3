import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { startNativeStack, type NativeStack } from '@fibstack/devstack/stack';
import { runLoad, sleep, submitOnce } from './load.js';

/**
 * Fault injection against the real native stack (Postgres, Redis, API server, worker processes):
 * each test breaks something for real and then proves no accepted submission was lost.
 */
let stack: NativeStack;
let dataDir: string;
let pool: pg.Pool;
const report: Array<Record<string, unknown>> = [];

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

async function missingResults(indexes: number[]): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM unnest($1::int[]) AS i WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.index = i)',
    [indexes],
  );
  return rows[0]!.n;
}

/** Waits until every index has its result; returns how long that took. */
async function allStored(indexes: number[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  while ((await missingResults(indexes)) > 0) {
    if (Date.now() - started > timeoutMs) throw new Error(`${await missingResults(indexes)} of ${indexes.length} still missing`);
    await sleep(200);
  }
  return Date.now() - started;
}

/** How many times the worker log says it computed each index (a retry after a crash must not repeat one). */
function computedTwice(): number[] {
  const counts = new Map<number, number>();
  for (const line of readFileSync(join(dataDir, 'logs', 'worker.log'), 'utf8').split('\n')) {
    if (!line.includes('"msg":"value computed"')) continue;
    const index = (JSON.parse(line) as { index: number }).index;
    counts.set(index, (counts.get(index) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n > 1).map(([index]) => index);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fibstack-chaos-'));
  stack = await startNativeStack({
    port: await freePort(),
    dataDir,
    persistent: true,
    output: { logDir: join(dataDir, 'logs') },
    env: {
      LOG_LEVEL: 'info',
      RECONCILE_INTERVAL_MS: '1000',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      SHUTDOWN_TIMEOUT_MS: '5000',
    },
  });
  pool = new pg.Pool({ connectionString: stack.databaseUrl });
  pool.on('error', () => undefined);
});

afterAll(async () => {
  console.table(report);
  await pool?.end();
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('faults', () => {
  it('kill -9 of the worker with 2,000 submissions in flight loses nothing and computes nothing twice', async () => {
    const indexes = range(30_000, 2_000);
    const load = runLoad(stack.url, indexes, 20);
    // Kill once the worker is busy: a few hundred stored, most still queued or in progress.
    const deadline = Date.now() + 60_000;
    while ((await missingResults(indexes)) > 1_700 && Date.now() < deadline) await sleep(20);
    await stack.stopService('worker', 'SIGKILL');
    const { accepted } = await load;
    expect(await missingResults(indexes)).toBeGreaterThan(0);
    await stack.startService('worker');
    const recoveryMs = await allStored(accepted, 120_000);
    expect(accepted).toHaveLength(2_000);
    expect(computedTwice()).toEqual([]);
    report.push({ fault: 'worker kill -9', sent: 2_000, accepted: accepted.length, lost: await missingResults(accepted), recoveryMs });
  });

  it('a Redis FLUSHALL with jobs queued loses nothing (the reconciler re-queues them)', async () => {
    await stack.stopService('worker');
    const indexes = range(40_000, 300);
    const { accepted } = await runLoad(stack.url, indexes, 10);
    const redis = new Redis(stack.redisUrl);
    await redis.flushall();
    redis.disconnect();
    await stack.startService('worker');
    const recoveryMs = await allStored(accepted, 60_000);
    expect(accepted).toHaveLength(300);
    report.push({ fault: 'Redis FLUSHALL', sent: 300, accepted: accepted.length, lost: await missingResults(accepted), recoveryMs });
  });

  it('a 10 s Postgres outage under load gives 503s, no crash, and full recovery with nothing lost', async () => {
    const indexes = range(50_000, 5_000);
    let stopLoad = false;
    const load = runLoad(stack.url, indexes, 4, () => stopLoad);
    await sleep(1_500);
    await stack.postgres.stop();
    await sleep(2_000);
    const duringOutage = await fetch(`${stack.serverUrl}/healthz`);
    const readyDuringOutage = await fetch(`${stack.serverUrl}/readyz`);
    await sleep(8_000);
    await stack.postgres.start();
    const restartedAt = Date.now();
    let firstSuccessMs: number | undefined;
    while (firstSuccessMs === undefined && Date.now() - restartedAt < 30_000) {
      const outcome = await submitOnce(stack.url, 59_999);
      if ('status' in outcome && outcome.status < 300) firstSuccessMs = Date.now() - restartedAt;
      else await sleep(100);
    }
    await sleep(2_000);
    stopLoad = true;
    const result = await load;

    expect(duringOutage.status).toBe(200);
    expect(readyDuringOutage.status).toBe(503);
    const statuses = [...result.outcomes.values()].map((outcome) => ('status' in outcome ? outcome.status : outcome.error));
    expect(statuses.filter((status) => ![200, 202, 503].includes(status as number))).toEqual([]);
    expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0);
    expect(firstSuccessMs).toBeDefined();
    await allStored(result.accepted, 60_000);
    report.push({
      fault: 'Postgres down 10 s',
      sent: result.outcomes.size,
      accepted: result.accepted.length,
      refused503: statuses.filter((status) => status === 503).length,
      lost: await missingResults(result.accepted),
      recoveryMs: firstSuccessMs,
    });
  });

  it('SIGTERM of the server under load resets no connection: in-flight requests finish', async () => {
    const indexes = range(60_000, 3_000);
    let stopLoad = false;
    const load = runLoad(stack.url, indexes, 10, () => stopLoad);
    await sleep(1_000);
    // As a balancer does on a rolling restart, new requests stop going to this instance when it is told
    // to stop; the ones already sent must all be answered.
    const exited = stack.stopService('server', 'SIGTERM');
    stopLoad = true;
    const exitCode = await exited;
    const result = await load;
    const errors = [...result.outcomes.values()].flatMap((outcome) => ('error' in outcome ? [outcome.error] : []));
    expect(exitCode).toBe(0);
    expect(errors.filter((error) => error !== 'ECONNREFUSED')).toEqual([]);
    await stack.startService('server');
    await allStored(result.accepted, 60_000);
    report.push({
      fault: 'server SIGTERM under load',
      sent: result.outcomes.size,
      accepted: result.accepted.length,
      resets: errors.filter((error) => error === 'ECONNRESET').length,
      lost: await missingResults(result.accepted),
    });
  });
});
