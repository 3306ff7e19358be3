import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { runUserJourney } from '../support/user-journey.js';
import { EDGE_ERROR_CASES } from '../support/edge-errors.js';
import { openEventStream } from '../support/event-stream.js';
import { rawRequest } from '../support/raw-http.js';
import { sleep, submitIndex, submitReadingAnswer } from '@fibstack/devstack/testkit';
import { allComputed, compose, docker, eventually, provisionBaseImages, type ComposeProject } from './docker.js';

const BASE = 'http://127.0.0.1:3050';
const PORT = 3050;
/** bull-board on, so that it is tested against the server's Redis user too. */
const BULL_BOARD_PASSWORD = 'operators-only-passphrase';
/**
 * The test stands where a load balancer would, in front of the edge: REAL_IP_FROM trusts the address its
 * requests reach nginx from (Docker's port proxy, on one of Docker's private networks), so the
 * X-Forwarded-For it sends names the client, as a balancer's would.
 */
const project: ComposeProject = {
  name: 'fibstack-test',
  files: ['docker-compose.yml'],
  env: { REAL_IP_FROM: '172.16.0.0/12 192.168.0.0/16 10.0.0.0/8', BULL_BOARD_ENABLED: 'true', BULL_BOARD_PASSWORD },
};
const timings: Record<string, number> = {};
/** Run in the server's image, from inside it: exits 0 once the API is ready. */
const READY_CHECK = "fetch('http://127.0.0.1:5000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";
/** What answers at a restarted server's old address in the test of the edge's address cache. */
const AT_THE_OLD_ADDRESS = "require('node:http').createServer((_, res) => res.writeHead(410).end('the old address')).listen(5000)";

/**
 * The API limits each client address (600 a minute in compose). The edge takes the client address from
 * X-Forwarded-For when the hop is a balancer in REAL_IP_FROM, as this test is (above); so a test that sends
 * many requests names a client of its own (documentation addresses, RFC 5737: only a header, nothing is
 * sent there).
 */
function clientAddress(n: number): string {
  return `198.51.100.${n}`;
}

const submitAs = (client: string, index: number) => submitIndex(BASE, index, { 'X-Forwarded-For': client });

let polls = 0;

/** The status of one index, each read as another client, so that polling never meets the rate limit. */
async function statusOf(index: number): Promise<string | undefined> {
  const client = clientAddress(150 + (polls++ % 100));
  const response = await fetch(`${BASE}/api/values/${index}`, { headers: { 'X-Forwarded-For': client } });
  return response.ok ? ((await response.json()) as { status: string }).status : undefined;
}

/** How many of `indexes` are done, read from the newest pages of the list (each page as a client of its own). */
async function doneAmong(indexes: number[]): Promise<number> {
  const wanted = new Set(indexes);
  const done = new Set<number>();
  let seen = 0;
  let cursor: string | null = null;
  for (let page = 0; seen < wanted.size; page++) {
    const query = cursor ? `limit=100&cursor=${encodeURIComponent(cursor)}` : 'limit=100';
    const response = await fetch(`${BASE}/api/values?${query}`, { headers: { 'X-Forwarded-For': clientAddress(150 + (polls++ % 100)) } });
    if (!response.ok) return done.size;
    const list = (await response.json()) as { items: Array<{ index: number; status: string }>; nextCursor: string | null };
    for (const item of list.items.filter((item) => wanted.has(item.index))) {
      seen++;
      if (item.status === 'done') done.add(item.index);
    }
    if (!list.nextCursor) break;
    cursor = list.nextCursor;
  }
  return done.size;
}

async function upAndHealthy(args: string[]): Promise<void> {
  const started = Date.now();
  await compose(project, ['up', '-d', ...args], 900_000);
  await eventually(async () => (await fetch(`${BASE}/api/values`)).status === 200, 300_000, 'the app through nginx');
  timings[`up ${args.join(' ') || '(no build)'} → healthy, ms`] = Date.now() - started;
}

/**
 * `docker-compose up --build` exactly as README says, tested through the edge nginx on :3050 with the
 * real images, Postgres, Redis and Chromium.
 */
describe('docker-compose.yml', () => {
  let browser: BrowserContext | undefined;

  beforeAll(async () => {
    await provisionBaseImages();
    await compose(project, ['down', '-v', '--remove-orphans']);
    await upAndHealthy(['--build']);
  });

  afterAll(async () => {
    await browser?.close();
    await compose(project, ['down', '-v', '--remove-orphans']).catch(() => undefined);
    console.log('compose timings', timings);
  });

  it('serves the app, with deep links, through nginx', async () => {
    const deepLink = await fetch(`${BASE}/values/10`);
    expect(deepLink.status).toBe(200);
    expect(await deepLink.text()).toContain('<div id="root">');
  });

  it('passes the browser journey', async () => {
    browser = await launchChromium();
    await runUserJourney(await browser.newPage(), BASE);
  });

  it('caches hashed assets for good and never caches index.html', async () => {
    const index = await fetch(`${BASE}/`);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(index.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    const asset = /\/assets\/[^"]+\.js/.exec(await index.text())![0];
    const response = await fetch(`${BASE}${asset}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('streams a result event through nginx as soon as it is computed (no buffering)', async () => {
    const stream = await openEventStream(`${BASE}/api/events`);
    try {
      expect(stream.contentType).toContain('text/event-stream');
      await stream.waitFor('retry:', 10_000);
      const index = 4_242;
      expect(await submitIndex(BASE, index)).toBe(202);
      // Bounded: buffered by a proxy, the event would wait for a full buffer (minutes of heartbeats).
      await stream.waitFor(`"index":${index},`, 20_000);
      expect(stream.text()).toMatch(new RegExp(`event: result\\ndata: \\{"index":${index},`));
    } finally {
      stream.close();
    }
  });

  it('answers bad requests with the API JSON errors through nginx', async () => {
    const post = (body: string) => fetch(`${BASE}/api/values`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const malformed = await post('{"index":');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'invalid_json' } });
    for (const size of [20_000, 100_000]) {
      const tooBig = await post(JSON.stringify({ index: 1, pad: 'x'.repeat(size) }));
      expect(tooBig.status).toBe(413);
      expect(await tooBig.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    }
    const negative = await post('{"index": -1}');
    expect(negative.status).toBe(422);
  });

  it("keeps the caller's request id (or mints one) on API answers and on the edge's own errors", async () => {
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${BASE}/api/values`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    const given = await post('{"index": 31}', { 'X-Request-Id': 'trace-abc.31' });
    expect(given.headers.get('x-request-id')).toBe('trace-abc.31');
    const minted = await post('{"index": 32}');
    expect(minted.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/);
    const refusedAtEdge = await post(JSON.stringify({ index: 1, pad: 'x'.repeat(100_000) }), { 'X-Request-Id': 'trace-big' });
    expect(refusedAtEdge.status).toBe(413);
    expect(refusedAtEdge.headers.get('x-request-id')).toBe('trace-big');
  });

  it('answers every error of its own under /api as JSON, malformed requests included', async () => {
    for (const { what, request, status, code } of EDGE_ERROR_CASES) {
      const response = await rawRequest(PORT, request);
      expect({ what, status: response.status }).toEqual({ what, status });
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.headers['x-request-id']).toMatch(/^(edge-case|[0-9a-f]{32})$/);
      expect(JSON.parse(response.body)).toEqual({ error: { code, message: expect.any(String) } });
    }
  });

  it('limits each client by the X-Forwarded-For address of a trusted balancer (REAL_IP_FROM, TRUST_PROXY), and only that client', async () => {
    const limited = clientAddress(10);
    const statuses: number[] = [];
    let refused: Response | undefined;
    // 600 a minute per client: a burst of a few more from one client must meet the limit.
    for (let sent = 0; sent < 640 && !refused; sent += 20) {
      const burst = await Promise.all(
        Array.from({ length: 20 }, () => fetch(`${BASE}/api/values?limit=1`, { headers: { 'X-Forwarded-For': limited } })),
      );
      statuses.push(...burst.map((response) => response.status));
      refused = burst.find((response) => response.status === 429);
      await Promise.all(burst.filter((response) => response !== refused).map((response) => response.arrayBuffer()));
    }
    expect(refused).toBeDefined();
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(Number(refused!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await refused!.json()).toMatchObject({ error: { code: 'rate_limited' } });

    const other = await fetch(`${BASE}/api/values?limit=1`, { headers: { 'X-Forwarded-For': clientAddress(11) } });
    expect(other.status).toBe(200);
    const stillLimited = await fetch(`${BASE}/api/values?limit=1`, { headers: { 'X-Forwarded-For': limited } });
    expect(stillLimited.status).toBe(429);
  });

  it('loses nothing when the server and the worker restart with jobs pending', async () => {
    const client = clientAddress(20);
    await compose(project, ['stop', 'worker']);
    const indexes = Array.from({ length: 40 }, (_, i) => 20_000 + i * 97);
    const statuses: number[] = [];
    for (const index of indexes) statuses.push(await submitAs(client, index));
    expect(statuses.filter((status) => status !== 202)).toEqual([]);
    // With no worker running, every one of them is still pending when the restart hits.
    expect(await statusOf(indexes[0]!)).toBe('pending');
    await compose(project, ['restart', 'server']);
    await compose(project, ['start', 'worker']);
    await allComputed(BASE, indexes, 120_000);
  });

  it('loses nothing when the worker container is killed (SIGKILL) with jobs in its hands', async () => {
    await compose(project, ['stop', 'worker']);
    // Enough big values that the worker is still busy with them when it is killed.
    const indexes = Array.from({ length: 1_500 }, (_, i) => 99_999 - i * 6);
    // Every one accepted, none refused with a 503. (A run once saw 10 of them answered the edge's own 503:
    // the server, restarted by the test before, had come back at a new address, and an nginx worker still
    // sent requests to the old one it had cached for 10 s. The edge caches for 1 s now, tested on its own below.)
    const refused: Array<{ index: number; status: number; body: string }> = [];
    await Promise.all(
      Array.from({ length: 15 }, async (_, lane) => {
        for (let i = lane; i < indexes.length; i += 15) {
          const answer = await submitReadingAnswer(BASE, indexes[i]!, { 'X-Forwarded-For': clientAddress(100 + lane) });
          if (answer.status !== 202) refused.push({ index: indexes[i]!, ...answer });
        }
      }),
    );
    expect(refused).toEqual([]);
    await compose(project, ['start', 'worker']);
    const worker = (await compose(project, ['ps', '-q', 'worker'])).trim();
    // Jobs run oldest first: kill as soon as the first is done, while the last is still pending.
    for (const deadline = Date.now() + 120_000; (await statusOf(indexes[0]!)) !== 'done';) {
      if (Date.now() > deadline) throw new Error('the worker computed nothing within 120 s of its start');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await docker(['kill', '--signal', 'KILL', worker]);
    expect(await statusOf(indexes.at(-1)!)).toBe('pending');
    await compose(project, ['up', '-d', 'worker']);
    await eventually(async () => (await doneAmong(indexes)) === indexes.length, 180_000, 'every value after the kill');
  });

  it('answers 503 while Postgres is down with jobs pending, recovers by itself, and loses none of them', async () => {
    const client = clientAddress(60);
    await compose(project, ['stop', 'worker']);
    const indexes = Array.from({ length: 30 }, (_, i) => 77_000 + i);
    for (const index of indexes) expect(await submitAs(client, index)).toBe(202);
    await compose(project, ['stop', 'postgres']);
    // The worker starts into the outage: every job it takes fails and is retried later.
    await compose(project, ['start', 'worker']);
    const during = await fetch(`${BASE}/api/values`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Forwarded-For': client },
      body: JSON.stringify({ index: 77_777 }),
    });
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ error: { code: 'service_unavailable' } });
    await compose(project, ['start', 'postgres']);
    await eventually(async () => (await submitAs(client, 77_778)) === 202, 60_000, 'the API to accept again');
    await allComputed(BASE, [...indexes, 77_778], 120_000);
  });

  it("answers the edge's own JSON 503 with Retry-After while the API is down", async () => {
    await compose(project, ['stop', 'server']);
    try {
      for (const path of ['/api/values', '/api/events']) {
        const response = await fetch(`${BASE}${path}`, { headers: { 'X-Request-Id': 'trace-down' } });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.headers.get('x-request-id')).toBe('trace-down');
        expect(await response.json()).toMatchObject({ error: { code: 'service_unavailable' } });
      }
    } finally {
      await compose(project, ['start', 'server']);
    }
    await eventually(async () => (await fetch(`${BASE}/api/values?limit=1`)).status === 200, 120_000, 'the API back through nginx');
  });

  it('asks every Redis client for a password: NOAUTH without one', async () => {
    expect(await compose(project, ['exec', '-T', 'redis', 'redis-cli', 'ping'])).toContain('NOAUTH Authentication required.');
  });

  it("gives the server's and the worker's Redis users what each needs and nothing more", async () => {
    // Run in each service's container, as its user, with its own password file.
    const probe = `
      const { Redis } = require('ioredis');
      const redis = new Redis({ host: 'redis', username: process.env.REDIS_USERNAME,
        password: require('node:fs').readFileSync(process.env.REDIS_PASSWORD_FILE, 'utf8'), maxRetriesPerRequest: 1 });
      const attempt = (...args) => redis.call(...args).then(() => 'ok', (error) => error.message.split(' ')[0]);
      (async () => {
        const answers = {};
        for (const [name, args] of Object.entries({
          flushall: ['flushall'], config: ['config', 'get', 'maxmemory-policy'], keys: ['keys', '*'],
          publish: ['publish', 'fibstack:probe', 'x'], rateLimitKey: ['exists', 'fibstack:rate:probe'],
          queueKey: ['exists', 'bull:fibonacci:probe'], otherKey: ['exists', 'elsewhere'],
        })) answers[name] = await attempt(...args);
        console.log(JSON.stringify(answers));
        redis.disconnect();
      })();`;
    const answersOf = async (service: string) =>
      JSON.parse(await compose(project, ['exec', '-T', service, 'node', '-e', probe])) as unknown;
    const refused = { flushall: 'NOPERM', config: 'NOPERM', keys: 'NOPERM', queueKey: 'ok', otherKey: 'NOPERM' };
    expect(await answersOf('server')).toEqual({ ...refused, publish: 'NOPERM', rateLimitKey: 'ok' });
    expect(await answersOf('worker')).toEqual({ ...refused, publish: 'ok', rateLimitKey: 'NOPERM' });
  });

  it("serves bull-board inside the stack, on the server's Redis user", async () => {
    const script = `fetch('http://127.0.0.1:5000/admin/queues/api/queues', {
      headers: { Authorization: 'Basic ' + Buffer.from('admin:' + process.env.BULL_BOARD_PASSWORD).toString('base64') },
    }).then(async (response) => console.log(response.status, JSON.stringify((await response.json()).queues.map((queue) => queue.name))))`;
    expect(await compose(project, ['exec', '-T', 'server', 'node', '-e', script])).toContain('200 ["fibonacci"]');
  });

  it('refuses to start the server image with a DATABASE_URL whose password holds #, and never prints the password', async () => {
    const secret = 'Canary-from-the-image-7f3e';
    const run = promisify(execFile)('docker', [
      'run',
      '--rm',
      '-e',
      `DATABASE_URL=postgres://fibstack:${secret}#1@postgres:5432/fibstack`,
      'fibstack-server:local',
    ]);
    const failed = (await run.then(
      () => undefined,
      (error: unknown) => error,
    )) as { code: number; stdout: string; stderr: string };
    expect(failed.code).toBe(1);
    expect(failed.stdout + failed.stderr).toContain('DATABASE_URL: must be a URL starting with postgres://');
    expect(failed.stdout + failed.stderr).not.toContain(secret);
  });

  it('reaches a restarted server at its new address once it is ready, none at the old (the edge keeps an address 1 s)', async () => {
    const server = (await compose(project, ['ps', '-q', 'server'])).trim();
    const addressOf = (container: string) =>
      docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', container]);
    const network = await docker(['inspect', '-f', '{{range $name, $_ := .NetworkSettings.Networks}}{{$name}}{{end}}', server]);
    const oldAddress = await addressOf(server);
    const placeholders: string[] = [];
    /** A request on a connection of its own, so that every nginx worker process (each has its own cache) takes some. */
    const freshRequest = async (n: number) => {
      const response = await fetch(`${BASE}/api/values?limit=1`, {
        headers: { Connection: 'close', 'X-Forwarded-For': clientAddress(200 + n) },
      });
      return `${response.status} ${(await response.text()).slice(0, 60)}`;
    };
    try {
      // Longer than any cache worth catching (it was 10 s), so the edge looks the server up afresh next.
      await sleep(11_000);
      await Promise.all(Array.from({ length: 20 }, (_, n) => freshRequest(n)));
      await compose(project, ['stop', '--timeout', '0', 'server']);
      // Docker gives a starting container the lowest free address: containers that answer on the API's port
      // take the free ones up to the server's own, so the server comes back at another address, and a
      // request sent to the old one is answered by a placeholder instead of waiting for a timeout.
      for (let attempt = 0; attempt < 5; attempt++) {
        placeholders.push(
          await docker([
            'run',
            '-d',
            '--rm',
            '--network',
            network,
            '--entrypoint',
            'node',
            'fibstack-server:local',
            '-e',
            AT_THE_OLD_ADDRESS,
          ]),
        );
        if ((await addressOf(placeholders.at(-1)!)) === oldAddress) break;
      }
      await compose(project, ['start', 'server']);
      expect(await addressOf(server)).not.toBe(oldAddress);
      await eventually(
        async () => {
          await docker(['exec', server, 'node', '-e', READY_CHECK]);
          return true;
        },
        120_000,
        'the server, ready again',
      );
      // What the edge cached before the stop has expired by now: every request reaches the new address.
      const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => freshRequest(n)));
      expect(answers.filter((answer) => !answer.startsWith('200 '))).toEqual([]);
    } finally {
      if (placeholders.length) await docker(['rm', '-f', '-v', ...placeholders]);
      await compose(project, ['start', 'server']);
    }
    await eventually(async () => (await fetch(`${BASE}/api/values?limit=1`)).status === 200, 120_000, 'the API back through nginx');
  });

  it('keeps the history across down and up (named volumes)', async () => {
    await compose(project, ['down']);
    await upAndHealthy([]);
    const value = (await (await fetch(`${BASE}/api/values/10`)).json()) as { status: string; value: string };
    expect(value).toMatchObject({ status: 'done', value: '55' });
  });
});
