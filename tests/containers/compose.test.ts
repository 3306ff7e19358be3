import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../e2e/browser.js';
import { runUserJourney } from '../e2e/flow.js';
import { allComputed, compose, eventually, provisionBaseImages, submit, type ComposeProject } from './docker.js';

const BASE = 'http://127.0.0.1:3050';
const project: ComposeProject = { name: 'fibstack-test', files: ['docker-compose.yml'] };
const timings: Record<string, number> = {};

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
    const asset = /\/assets\/[^"]+\.js/.exec(await index.text())![0];
    const response = await fetch(`${BASE}${asset}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('streams a result event through nginx within 2 s of a submission (no buffering)', async () => {
    const controller = new AbortController();
    const stream = await fetch(`${BASE}/api/events`, { signal: controller.signal });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    const index = 4_242;
    const submittedAt = Date.now();
    expect(await submit(BASE, index)).toBe(202);
    let text = '';
    while (!text.includes(`"index":${index}`)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const elapsed = Date.now() - submittedAt;
    controller.abort();
    expect(text).toMatch(new RegExp(`event: result\\ndata: \\{"index":${index},`));
    expect(elapsed).toBeLessThan(2_000);
  });

  it('answers bad requests with the API JSON errors through nginx', async () => {
    const post = (body: string) =>
      fetch(`${BASE}/api/values`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
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

  it('loses nothing when the server and the worker restart mid-flow', async () => {
    const indexes = Array.from({ length: 40 }, (_, i) => 20_000 + i * 97);
    const statuses: number[] = [];
    for (const index of indexes) statuses.push(await submit(BASE, index));
    expect(statuses.filter((status) => status !== 202)).toEqual([]);
    await compose(project, ['restart', 'server', 'worker']);
    await allComputed(BASE, indexes, 120_000);
  });

  it('loses nothing when the worker container is killed (SIGKILL) mid-flow', async () => {
    const indexes = Array.from({ length: 60 }, (_, i) => 60_000 + i * 331);
    for (const index of indexes) expect(await submit(BASE, index)).toBe(202);
    await compose(project, ['kill', '-s', 'SIGKILL', 'worker']);
    await compose(project, ['up', '-d', 'worker']);
    await allComputed(BASE, indexes, 180_000);
  });

  it('answers 503 while Postgres restarts, recovers by itself, and loses no accepted submission', async () => {
    await compose(project, ['stop', 'postgres']);
    const during = await fetch(`${BASE}/api/values`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ index: 77_777 }),
    });
    expect(during.status).toBe(503);
    expect(await during.json()).toMatchObject({ error: { code: 'service_unavailable' } });
    await compose(project, ['start', 'postgres']);
    await eventually(async () => (await submit(BASE, 77_778)) === 202, 60_000, 'the API to accept again');
    await allComputed(BASE, [77_778], 60_000);
  });

  it('keeps the history across down and up (named volumes)', async () => {
    await compose(project, ['down']);
    await upAndHealthy([]);
    const value = (await (await fetch(`${BASE}/api/values/10`)).json()) as { status: string; value: string };
    expect(value).toMatchObject({ status: 'done', value: '55' });
  });
});
