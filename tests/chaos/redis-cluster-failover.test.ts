import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import type { NativeStack } from '@fibstack/devstack/stack';
import { startThrowawayStack, type ThrowawayStack } from '@fibstack/devstack/throwaway-stack';
import { closeTestPool, testPool } from '@fibstack/devstack/test-database';
import { eventually, sleep } from '@fibstack/devstack/testkit';
import { openEventStream } from '../support/event-stream.js';
import { runLoad } from '../support/submission-load.js';

/**
 * A master of the Redis Cluster dies (SIGKILL, no goodbye) under load: the one that holds the queue (every
 * `{bull}` key is in one slot) and, here, the results channel's shard too. Its replica is promoted after
 * cluster-node-timeout. Replication is asynchronous, so what the master acknowledged last may never have
 * reached the replica; nothing may be lost for that: every submission accepted before, during and after
 * the failover gets its value, and a stream open throughout carries every one of them.
 */
let throwaway: ThrowawayStack;
let stack: NativeStack;
let pool: pg.Pool;

beforeAll(async () => {
  throwaway = await startThrowawayStack('cluster-failover', {
    redisCluster: { masters: 3, replicasPerMaster: 1 },
    // A lost job is found again within seconds (production: 30 s), so the test waits seconds, not minutes.
    serviceEnv: { worker: { RECONCILE_INTERVAL_MS: '2000' } },
  });
  stack = throwaway.stack;
  pool = testPool({ connectionString: stack.databaseUrl });
});

afterAll(async () => {
  if (pool) await closeTestPool(pool);
  await throwaway?.close();
});

async function missingResults(indexes: number[]): Promise<number[]> {
  const { rows } = await pool.query<{ i: number }>(
    'SELECT i FROM unnest($1::int[]) AS i WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.index = i)',
    [indexes],
  );
  return rows.map((row) => row.i);
}

describe('a Redis Cluster master killed under load', () => {
  it('loses no submission and no result event: its replica takes over and the work goes on', async () => {
    const cluster = stack.redisCluster!;
    const queueMaster = await cluster.masterOf('{bull}:fibonacci:wait');
    expect((await cluster.masterOf(RESULTS_CHANNEL)).port).toBe(queueMaster.port);
    const stream = await openEventStream(`${stack.url}/api/events`);
    try {
      await stream.waitFor('event: ready', 10_000);
      const indexes = Array.from({ length: 3_000 }, (_, i) => 30_000 + i);
      const load = runLoad(stack.url, indexes, 8, () => false);
      // Well into the load: jobs queued, in the worker's hands and being announced when the master dies.
      await eventually(async () => (await missingResults(indexes)).length < indexes.length - 300, 60_000, 'the pipeline to be busy');
      const { killed, promoted } = await cluster.failOver('{bull}:fibonacci:wait');
      const { accepted, outcomes } = await load;
      const refused = [...outcomes.values()].filter((outcome) => !('status' in outcome) || outcome.status !== 202);
      expect(promoted.port).not.toBe(killed.port);
      // The API commits each submission in Postgres before it answers: Redis away is no reason to refuse.
      expect(refused).toEqual([]);
      expect(accepted).toHaveLength(indexes.length);
      await eventually(async () => (await missingResults(accepted)).length === 0, 120_000, 'a value for every accepted submission');
      // Announcements the dead master swallowed are read from Postgres at the next one or the heartbeat.
      for (const index of accepted) await stream.waitFor(`"index":${index},`, 30_000);
      // The worker goes on taking jobs from the promoted master.
      await sleep(100);
      const after = 40_000;
      expect(
        (
          await fetch(`${stack.url}/api/values`, {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ index: after }),
          })
        ).status,
      ).toBe(202);
      await stream.waitFor(`"index":${after},`, 30_000);
    } finally {
      stream.close();
    }
  });
});
