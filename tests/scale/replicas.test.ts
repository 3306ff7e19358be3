import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVER_REPLICA_ADDRESSES, type NativeStack } from '@fibstack/devstack/stack';
import { startThrowawayStack, type ThrowawayStack } from '@fibstack/devstack/throwaway-stack';
import { eventually, sleep, submitIndex, submitOnFreshConnection, type Outcome } from '@fibstack/devstack/testkit';
import { startEdgeByName, type EdgeByName } from '../support/nginx.js';
import { openEventStream } from '../support/event-stream.js';
import { requestCount } from '../support/replica-metrics.js';

/**
 * Two API processes and two workers behind the edge as shipped (nginx/conf and nginx/templates, the real
 * nginx), natively: the API replicas listen on one port, each on a loopback address of its own, and a
 * DNS server answers the upstream's name with both, as Docker's and Kubernetes' DNS answer a scaled
 * service's name. What one process hides must hold with several: results reach every replica's
 * streams and pages, the edge spreads the requests, and restarting the replicas one after the other under
 * steady load fails no request.
 */
const UPSTREAM = 'api.fibstack.test';
const REPLICAS = 2;

let throwaway: ThrowawayStack;
let stack: NativeStack;
let edge: EdgeByName;
let edgeUrl: string;

beforeAll(async () => {
  throwaway = await startThrowawayStack('replicas', {
    replicas: { server: REPLICAS, worker: REPLICAS },
    // Behind the edge, as compose and Kubernetes run it: one trusted hop.
    serviceEnv: { server: { TRUST_PROXY: '1' } },
  });
  stack = throwaway.stack;
  edge = await startEdgeByName({
    name: UPSTREAM,
    addresses: SERVER_REPLICA_ADDRESSES(REPLICAS),
    serverPort: new URL(stack.serverUrl).port,
  });
  edgeUrl = edge.url;
});

afterAll(async () => {
  await edge?.stop();
  await throwaway?.close();
});

describe('two API replicas and two workers behind the edge', () => {
  it('streams and lists, on one replica, the results of submissions made through the other', async () => {
    const [first, second] = stack.serverUrls as [string, string];
    const stream = await openEventStream(`${first}/api/events`);
    try {
      await stream.waitFor('event: ready', 10_000);
      const indexes = Array.from({ length: 40 }, (_, i) => 3_000 + i * 7);
      for (const index of indexes) expect(await submitIndex(second, index)).toBe(202);
      // Within a heartbeat (15 s): each result is announced and read at once, not found at the next heartbeat.
      for (const index of indexes) await stream.waitFor(`"index":${index},`, 10_000);
      const listed = (await (await fetch(`${first}/api/values?limit=100`)).json()) as { items: Array<{ index: number; status: string }> };
      const done = new Set(listed.items.filter((item) => item.status === 'done').map((item) => item.index));
      expect(indexes.filter((index) => !done.has(index))).toEqual([]);
    } finally {
      stream.close();
    }
  });

  it('spreads requests over both replicas (each replica counts its own in /metrics)', async () => {
    const before = await Promise.all(stack.serverUrls.map((url) => requestCount(url, 'GET', '/api/values', 200)));
    const sent = 200;
    for (let i = 0; i < sent; i++) {
      const response = await fetch(`${edgeUrl}/api/values?limit=1`);
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const after = await Promise.all(stack.serverUrls.map((url) => requestCount(url, 'GET', '/api/values', 200)));
    const served = after.map((count, i) => count - before[i]!);
    expect(served.reduce((sum, count) => sum + count, 0)).toBe(sent);
    // Round robin over the two addresses the name resolves to: about half each.
    for (const count of served) expect(count, `per replica: ${served.join(' / ')}`).toBeGreaterThan(sent * 0.3);
  });

  it('answers every request while the API replicas restart one after the other under steady load', async () => {
    const outcomes: Outcome[] = [];
    let next = 10_000;
    let running = true;
    // ~40 submissions a second, each on a connection of its own (a reset shows as an error, not a retry).
    const load = (async () => {
      while (running) {
        const batch = Array.from({ length: 4 }, () => submitOnFreshConnection(edgeUrl, next++));
        outcomes.push(...(await Promise.all(batch)));
        await sleep(100);
      }
    })();
    try {
      await sleep(1_000);
      for (let replica = 0; replica < REPLICAS; replica++) {
        const before = outcomes.length;
        expect(await stack.stopService('server', 'SIGTERM', replica)).toBe(0);
        await stack.startService('server', replica);
        // Some of the load reached the others while this one was away, then it serves again.
        await sleep(1_000);
        expect(outcomes.length).toBeGreaterThan(before);
      }
    } finally {
      running = false;
      await load;
    }
    const failed = outcomes.filter((outcome) => !('status' in outcome) || outcome.status !== 202);
    expect(outcomes.length).toBeGreaterThan(100);
    expect(failed).toEqual([]);
    // Every one of them was committed: each gets its value.
    await eventually(
      async () => {
        const response = await fetch(`${edgeUrl}/api/values/${next - 1}`);
        return response.ok && ((await response.json()) as { status: string }).status === 'done';
      },
      30_000,
      'the last submission to be computed',
    );
  });
});
