import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import type { NativeStack } from '@fibstack/devstack/stack';
import { startThrowawayStack, type ThrowawayStack } from '@fibstack/devstack/throwaway-stack';
import { edgeLayout, edgeStreamLimit, runNginx, type NginxLayout, type RunningNginx } from '../support/nginx.js';
import { percentile } from '../../bench/stats.js';
import { openStream, send, type Answer, type HeldStream } from './from-address.js';

/**
 * A hostile client against the edge as shipped (nginx/conf and nginx/templates, run by the real nginx)
 * in front of the real API, worker, Postgres and Redis (the native stack, as `npm start` runs it),
 * configured as compose configures the API: the per-client rate limit on, one trusted hop (the edge).
 * What the edge must hold: its caps on event streams per address and in all, its floor under the API's
 * rate limit, and one client address per connection, whatever X-Forwarded-For says; and through all of
 * it, every other visitor is served.
 *
 * The API caps streams itself too (per address and per process): where those are lower than the edge's,
 * this suite raises them, so that the edge's own limits are what it reaches.
 */
const API_LIMIT_PER_MINUTE = 60;
/** The one address whose X-Forwarded-For the edge believes (REAL_IP_FROM): a stand-in load balancer. */
const BALANCER = '127.0.0.3';

/** The edge's own 429 for event streams: JSON, with Retry-After, in the API's error shape. */
function expectStreamRefusal(refused: HeldStream): void {
  expect(refused.status).toBe(429);
  expect(refused.headers['content-type']).toBe('application/json');
  expect(refused.headers['retry-after']).toBe('5');
  expect(JSON.parse(refused.text())).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('event streams') } });
}

let throwaway: ThrowawayStack;
let stack: NativeStack;
let layout: NginxLayout;
let edge: RunningNginx;
let port: number;
const held: HeldStream[] = [];

/** Opens `count` streams from `from` (in parallel, as a script would), keeping those the edge lets through. */
async function openStreams(
  from: string,
  count: number,
  headers: (i: number) => Record<string, string> = () => ({}),
): Promise<HeldStream[]> {
  const opened = await Promise.allSettled(Array.from({ length: count }, (_, i) => openStream(port, from, headers(i))));
  // Every stream that opened is closed after the test, even when another of the same batch failed.
  const streams = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  held.push(...streams);
  const failed = opened.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return streams;
}

beforeAll(async () => {
  throwaway = await startThrowawayStack('hostile', {
    serviceEnv: {
      server: {
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_PER_MINUTE: String(API_LIMIT_PER_MINUTE),
        TRUST_PROXY: '1',
        // Above the edge's own caps (16 per address, 1,500 in all), so the edge's are what this suite reaches.
        SSE_MAX_STREAMS_PER_CLIENT: '100',
        SSE_MAX_STREAMS: '5000',
      },
    },
  });
  stack = throwaway.stack;
  port = await freePort();
  // Natively the API also serves the built client (STATIC_DIR), so it stands in for the client upstream.
  const upstream = new URL(stack.serverUrl).host;
  layout = await edgeLayout({
    templates: 'templates',
    port,
    serverUpstream: upstream,
    clientUpstream: upstream,
    realIpFrom: BALANCER,
    workerProcesses: 1,
  });
  edge = await runNginx(layout, port);
});

afterEach(() => {
  for (const stream of held.splice(0)) stream.close();
});

afterAll(async () => {
  await edge?.stop();
  await throwaway?.close();
  if (layout) await rm(layout.prefix, { recursive: true, force: true });
});

describe('one client holding event streams', () => {
  it('gets its streams up to the per-address cap, the next one refused with a JSON 429, while another address gets its page, its submission and its stream', async () => {
    const perClient = await edgeStreamLimit('edge_streams_per_client');
    const hostile = '127.0.0.1';
    const allowed = await openStreams(hostile, perClient);
    expect(allowed.map((stream) => stream.status)).toEqual(allowed.map(() => 200));
    const [refused] = await openStreams(hostile, 1);
    expectStreamRefusal(refused!);

    // Another visitor, while the hostile client holds all it may.
    const visitor = '127.0.0.2';
    const index = 4_321;
    const page = await send(port, { from: visitor, path: '/' });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<div id="root">');
    const [stream] = await openStreams(visitor, 1);
    expect(stream!.status).toBe(200);
    const submitted = await send(port, { from: visitor, method: 'POST', path: '/api/values', body: JSON.stringify({ index }) });
    expect(submitted.status).toBe(202);
    await stream!.waitFor(`"index":${index},`, 20_000);
  });

  it('cannot pass for other clients with X-Forwarded-For: its streams and its requests count as its own', async () => {
    const perClient = await edgeStreamLimit('edge_streams_per_client');
    const hostile = '127.0.0.4';
    const forged = (i: number) => ({ 'X-Forwarded-For': `198.51.100.${i}` });
    const streams = await openStreams(hostile, perClient + 1, forged);
    expect(streams.filter((stream) => stream.status === 200)).toHaveLength(perClient);
    expectStreamRefusal(streams.find((stream) => stream.status !== 200)!);

    // The API's limit, counted per client by the address the edge gives it.
    const answers: Answer[] = [];
    for (let i = 0; i <= API_LIMIT_PER_MINUTE; i++) {
      answers.push(await send(port, { from: '127.0.0.5', path: '/api/values?limit=1', headers: { 'X-Forwarded-For': `203.0.113.${i}` } }));
    }
    expect(answers.slice(0, API_LIMIT_PER_MINUTE).map((answer) => answer.status)).toEqual(answers.slice(1).map(() => 200));
    expect(answers.at(-1)!.status).toBe(429);
    expect(JSON.parse(answers.at(-1)!.body)).toMatchObject({
      error: { code: 'rate_limited', message: expect.stringContaining('a minute') },
    });

    // Nor do the forged addresses reach the edge's log.
    const log = await readFile(join(layout.prefix, 'access.log'), 'utf8');
    expect(log).toContain('127.0.0.5 ');
    expect(log).not.toMatch(/198\.51\.100\.|203\.0\.113\./);
  });

  it('is named by X-Forwarded-For only behind a balancer in REAL_IP_FROM, as the rightmost address no trusted hop added', async () => {
    // Behind the balancer, each client is its own, even one that sent an X-Forwarded-For of its own.
    const behind = (client: string) => ({ 'X-Forwarded-For': `10.9.9.9, ${client}` });
    const answers: number[] = [];
    for (let i = 0; i <= API_LIMIT_PER_MINUTE; i++) {
      answers.push((await send(port, { from: BALANCER, path: '/api/values?limit=1', headers: behind('192.0.2.10') })).status);
    }
    expect(answers.at(-1)).toBe(429);
    expect((await send(port, { from: BALANCER, path: '/api/values?limit=1', headers: behind('192.0.2.11') })).status).toBe(200);
    const log = await readFile(join(layout.prefix, 'access.log'), 'utf8');
    expect(log).toContain('192.0.2.10 ');
    expect(log).not.toContain('10.9.9.9');
  });
});

describe("the edge's floor under the API's rate limit", () => {
  it('refuses one address by itself once it is past a burst of 1,200, however the API answers', async () => {
    const flooder = '127.0.0.6';
    let sent = 0;
    let edgeRefusal: Answer | undefined;
    // Sent faster than the floor's 20 a second refills, until the edge answers for itself (bounded).
    while (!edgeRefusal && sent < 5_000) {
      const burst = await Promise.all(Array.from({ length: 50 }, () => send(port, { from: flooder, path: '/api/limits' })));
      sent += burst.length;
      // The API's refusals carry its RateLimit header; the edge's do not.
      edgeRefusal = burst.find((answer) => answer.status === 429 && !answer.headers.ratelimit);
    }
    expect(edgeRefusal, `no refusal of the edge's own after ${sent} requests`).toBeDefined();
    expect(sent).toBeGreaterThan(1_200);
    expect(edgeRefusal!.headers['retry-after']).toBe('1');
    expect(JSON.parse(edgeRefusal!.body)).toEqual({ error: { code: 'rate_limited', message: 'too many requests, try again shortly' } });
    // Another address is not concerned.
    expect((await send(port, { from: '127.0.0.7', path: '/api/limits' })).status).toBe(200);
  });
});

describe('an edge full of event streams', () => {
  it('holds its total of streams, refuses the next with a JSON 429, and still serves a new visitor', async () => {
    const perClient = await edgeStreamLimit('edge_streams_per_client');
    const total = await edgeStreamLimit('edge_streams_total');
    // As many clients as it takes, each with all the streams it may hold, opened a client at a time.
    for (let client = 0; held.length < total; client++) {
      const streams = await openStreams(`127.0.1.${client + 1}`, Math.min(perClient, total - held.length));
      expect(streams.map((stream) => stream.status)).toEqual(streams.map(() => 200));
    }
    const [refused] = await openStreams('127.0.2.1', 1);
    expectStreamRefusal(refused!);

    // A new visitor meets an edge holding every stream it takes: it is served, and how fast is measured
    // (reported, never asserted: speed is the benchmark's).
    const visitors = Array.from({ length: 20 }, (_, i) => `127.0.3.${i + 1}`);
    const timings: number[] = [];
    for (const [i, from] of visitors.entries()) {
      const page = await send(port, { from, path: '/' });
      const list = await send(port, { from, path: '/api/values?limit=5' });
      const submitted = await send(port, { from, method: 'POST', path: '/api/values', body: JSON.stringify({ index: 5_000 + i }) });
      expect([page.status, list.status, submitted.status]).toEqual([200, 200, 202]);
      timings.push(page.ms, list.ms, submitted.ms);
    }
    console.log(
      `a new visitor with ${held.length - 1} streams held at the edge: ${timings.length} requests, ` +
        `p50 ${percentile(timings, 50).toFixed(1)} ms, p99 ${percentile(timings, 99).toFixed(1)} ms`,
    );
  });
});
