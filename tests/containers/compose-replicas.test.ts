import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { sleep, submitIndex, submitOnFreshConnection, type Outcome } from '@fibstack/devstack/testkit';
import { openEventStream } from '../support/event-stream.js';
import { requestCount } from '../support/replica-metrics.js';
import { compose, docker, eventually, provisionBaseImages, type ComposeProject } from './docker.js';

/**
 * `docker-compose -f docker-compose.yml -f docker-compose.replicas.yml up --build`: two API servers and two
 * workers behind the edge, each reached by the edge through Docker's DNS. The test stands where a load
 * balancer would (REAL_IP_FROM), so the client addresses it names keep it under the per-client limits.
 * Each server is also reached directly at its container's address (Linux puts the host on the project's
 * network), to read its own /metrics and to hold a stream on one of them.
 */
let port: number;
let base: string;
const project: ComposeProject = {
  name: 'fibstack-replicas-test',
  files: ['docker-compose.yml', 'docker-compose.replicas.yml'],
  env: { REAL_IP_FROM: '172.16.0.0/12 192.168.0.0/16 10.0.0.0/8' },
};
let clients = 0;
/** A client address of its own for each request (RFC 5737 documentation addresses: only a header). */
const nextClient = () => ({ 'X-Forwarded-For': `203.0.113.${(clients++ % 250) + 1}` });

/** Each server container's id and its address on the project's network, where it serves on :5000. */
async function servers(): Promise<Array<{ id: string; url: string }>> {
  const ids = (await compose(project, ['ps', '-q', 'server'])).trim().split('\n').filter(Boolean);
  return Promise.all(
    ids.map(async (id) => ({
      id,
      url: `http://${await docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id])}:5000`,
    })),
  );
}

beforeAll(async () => {
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  project.env!.FIBSTACK_PORT = String(port);
  await provisionBaseImages();
  await compose(project, ['down', '-v', '--remove-orphans']);
  await compose(project, ['up', '-d', '--build'], 900_000);
  await eventually(
    async () => (await fetch(`${base}/api/values`, { headers: nextClient() })).status === 200,
    300_000,
    'the app through nginx',
  );
});

afterAll(async () => {
  await compose(project, ['down', '-v', '--remove-orphans']).catch(() => undefined);
});

describe('docker-compose.replicas.yml', () => {
  it('runs two servers and two workers', async () => {
    expect(await servers()).toHaveLength(2);
    expect((await compose(project, ['ps', '-q', 'worker'])).trim().split('\n')).toHaveLength(2);
  });

  it('streams, on one server, the results of submissions made through the other', async () => {
    const [first, second] = await servers();
    if (!first || !second) throw new Error('expected two servers');
    const stream = await openEventStream(`${first.url}/api/events`);
    try {
      await stream.waitFor('event: ready', 10_000);
      const indexes = Array.from({ length: 20 }, (_, i) => 5_000 + i * 3);
      for (const index of indexes) expect(await submitIndex(second.url, index)).toBe(202);
      for (const index of indexes) await stream.waitFor(`"index":${index},`, 10_000);
    } finally {
      stream.close();
    }
  });

  it('spreads the requests through the edge over both servers (each counts its own in /metrics)', async () => {
    const each = await servers();
    const before = await Promise.all(each.map(({ url }) => requestCount(url, 'GET', '/api/values', 200)));
    const sent = 200;
    for (let i = 0; i < sent; i++) {
      const response = await fetch(`${base}/api/values?limit=1`, { headers: nextClient() });
      expect(response.status).toBe(200);
      await response.arrayBuffer();
    }
    const after = await Promise.all(each.map(({ url }) => requestCount(url, 'GET', '/api/values', 200)));
    const served = after.map((count, i) => count - before[i]!);
    expect(served.reduce((sum, count) => sum + count, 0)).toBe(sent);
    for (const count of served) expect(count, `per server: ${served.join(' / ')}`).toBeGreaterThan(sent * 0.3);
  });

  it('answers every request while the servers restart one after the other under steady load', async () => {
    const outcomes: Array<{ index: number; outcome: Outcome }> = [];
    let next = 10_000;
    let running = true;
    const load = (async () => {
      while (running) {
        const batch = Array.from({ length: 4 }, async () => {
          const index = next++;
          return { index, outcome: await submitOnFreshConnection(base, index, nextClient()) };
        });
        outcomes.push(...(await Promise.all(batch)));
        await sleep(100);
      }
    })();
    try {
      await sleep(1_000);
      for (const { id } of await servers()) {
        await docker(['restart', id]);
        await eventually(
          async () => (await docker(['inspect', '-f', '{{.State.Health.Status}}', id])) === 'healthy',
          120_000,
          `server ${id.slice(0, 12)} healthy again`,
        );
      }
    } finally {
      running = false;
      await load;
    }
    expect(outcomes.length).toBeGreaterThan(100);
    // Every one answered 202: none reset, and none refused, as the edge sends a request a stopping server
    // reset (a connection its kernel had queued when it stopped listening) to the other one.
    expect(outcomes.filter(({ outcome }) => !('status' in outcome) || outcome.status !== 202)).toEqual([]);
  });
});
