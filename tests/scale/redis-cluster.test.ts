import { Cluster } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import type { NativeStack } from '@fibstack/devstack/stack';
import { startThrowawayStack, type ThrowawayStack } from '@fibstack/devstack/throwaway-stack';
import { closeTestPool, testPool } from '@fibstack/devstack/test-database';
import { eventually, submitIndex } from '@fibstack/devstack/testkit';
import { openEventStream } from '../support/event-stream.js';

/**
 * The services on a Redis Cluster (REDIS_CLUSTER=true): three masters, each with a replica, redis-server
 * processes in cluster mode on loopback, as ElastiCache runs one in cluster mode. Everything that uses
 * Redis must work there: the queue (BullMQ, its keys in one hash slot), the live results (sharded
 * pub/sub) and the rate limiter (one key per client, on whichever shard it hashes to).
 */
const LIMIT_PER_MINUTE = 30;

let throwaway: ThrowawayStack;
let stack: NativeStack;
let pool: pg.Pool;
let cluster: Cluster;

beforeAll(async () => {
  throwaway = await startThrowawayStack('redis-cluster', {
    redisCluster: { masters: 3, replicasPerMaster: 1 },
    // This test stands where the edge would: the one hop trusted to name the client (X-Forwarded-For).
    serviceEnv: { server: { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_PER_MINUTE: String(LIMIT_PER_MINUTE), TRUST_PROXY: '1' } },
  });
  stack = throwaway.stack;
  pool = testPool({ connectionString: stack.databaseUrl });
  const seed = new URL(stack.redisUrl);
  cluster = new Cluster([{ host: seed.hostname, port: Number(seed.port) }], { redisOptions: { password: stack.redisCluster!.password } });
});

afterAll(async () => {
  cluster?.disconnect();
  if (pool) await closeTestPool(pool);
  await throwaway?.close();
});

describe('on a Redis Cluster', () => {
  it('computes every submission and streams every result, the queue in one slot and results on sharded pub/sub', async () => {
    const stream = await openEventStream(`${stack.url}/api/events`);
    try {
      await stream.waitFor('event: ready', 10_000);
      const indexes = Array.from({ length: 400 }, (_, i) => 20_000 + i);
      const lanes = 20;
      const statuses = await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          const answered: number[] = [];
          // Each lane as a client of its own, under the rate limit.
          const headers = { 'X-Forwarded-For': `192.0.2.${lane + 1}` };
          for (let i = lane; i < indexes.length; i += lanes) answered.push(await submitIndex(stack.url, indexes[i]!, headers));
          return answered;
        }),
      );
      expect(statuses.flat().filter((status) => status !== 202)).toEqual([]);
      await eventually(
        async () => (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM results')).rows[0]!.n === indexes.length,
        60_000,
        'every value stored',
      );
      for (const index of indexes) await stream.waitFor(`"index":${index},`, 10_000);

      // The queue's keys are hash-tagged: one slot, so BullMQ's scripts may touch several at once.
      const queueKeys = (await Promise.all(cluster.nodes('master').map((node) => node.keys('*fibonacci*')))).flat();
      expect(queueKeys.length).toBeGreaterThan(0);
      expect(queueKeys.filter((key) => !key.startsWith('{bull}:fibonacci:'))).toEqual([]);
      // The API listens on the results channel's own shard (SSUBSCRIBE), not on every shard's PUBLISH.
      const channelMaster = await stack.redisCluster!.masterOf(RESULTS_CHANNEL);
      const node = cluster.nodes('master').find((candidate) => candidate.options.port === channelMaster.port)!;
      expect(await node.call('PUBSUB', 'SHARDNUMSUB', RESULTS_CHANNEL)).toEqual([RESULTS_CHANNEL, 1]);
      expect(await node.call('PUBSUB', 'NUMSUB', RESULTS_CHANNEL)).toEqual([RESULTS_CHANNEL, 0]);
    } finally {
      stream.close();
    }
  });

  it('limits each client on the shard its key hashes to, counting in the cluster', async () => {
    // Two clients whose counters live on different masters.
    const clients: string[] = [];
    const masters = new Set<number>();
    for (let n = 1; clients.length < 2 && n < 250; n++) {
      const client = `198.51.100.${n}`;
      const master = (await stack.redisCluster!.masterOf(`fibstack:rate:${client}`)).port;
      if (!masters.has(master)) {
        masters.add(master);
        clients.push(client);
      }
    }
    expect(clients).toHaveLength(2);
    for (const client of clients) {
      const statuses: number[] = [];
      for (let i = 0; i <= LIMIT_PER_MINUTE; i++) {
        const response = await fetch(`${stack.url}/api/values?limit=1`, { headers: { 'X-Forwarded-For': client } });
        statuses.push(response.status);
        await response.arrayBuffer();
      }
      expect(statuses.slice(0, LIMIT_PER_MINUTE).every((status) => status === 200)).toBe(true);
      expect(statuses.at(-1)).toBe(429);
      // Counted in Redis, shared by every replica: not in the process (its fallback while Redis is away).
      expect(Number(await cluster.get(`fibstack:rate:${client}`))).toBe(LIMIT_PER_MINUTE + 1);
    }
  });
});
