import { request as httpRequest, type ClientRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_CHANNEL, TRACE_CONTEXT_KEY } from '@fibstack/contract/jobs';
import type { ResultEvent } from '@fibstack/contract/values';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  t = await startAppUnderTest();
  server = t.app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  server.close();
  await t.close();
});

interface Stream {
  req: ClientRequest;
  response: IncomingMessage;
  /** Everything received so far. */
  text: () => string;
  /** Resolves with the text once it matches `pattern`. */
  until: (pattern: RegExp) => Promise<string>;
  ended: Promise<void>;
}

/** Opens `GET /api/events` with a raw HTTP request, as a browser's EventSource would. */
function openStream(): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}/api/events`, { headers: { Accept: 'text/event-stream' } }, (response) => {
      let text = '';
      const waiters: Array<() => void> = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        for (const wake of waiters.splice(0)) wake();
      });
      const ended = new Promise<void>((done) => response.once('end', done));
      const until = async (pattern: RegExp) => {
        while (!pattern.test(text)) await new Promise<void>((wake) => waiters.push(wake));
        return text;
      };
      resolve({ req, response, text: () => text, until, ended });
    });
    req.on('error', reject);
    req.end();
  });
}

const event: ResultEvent = {
  index: 10,
  value: '55',
  digits: 2,
  truncated: false,
  computeMs: 0.1,
  computedAt: new Date().toISOString(),
};

describe('GET /api/events', () => {
  it('streams each published result as an SSE `result` event, with stream-friendly headers', async () => {
    const stream = await openStream();
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.response.headers['cache-control']).toBe('no-cache, no-transform');
    expect(stream.response.headers['x-accel-buffering']).toBe('no');
    // Headers and the retry hint arrive before any event, so the browser knows it is connected.
    expect(await stream.until(/retry: 3000\n\n/)).toMatch(/^retry: 3000\n\n/);

    await t.redis.publish(RESULTS_CHANNEL, JSON.stringify(event));
    const text = await stream.until(/event: result\ndata: .*\n\n/);
    expect(JSON.parse(/event: result\ndata: (.*)\n\n/.exec(text)![1]!)).toEqual(event);
    stream.req.destroy();
  });

  it("relays the event fields only, never the worker's trace context", async () => {
    const stream = await openStream();
    const traced = { ...event, index: 11, [TRACE_CONTEXT_KEY]: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } };
    await t.redis.publish(RESULTS_CHANNEL, JSON.stringify(traced));
    const text = await stream.until(/event: result\ndata: .*"index":11.*\n\n/);
    expect(JSON.parse(/event: result\ndata: (.*"index":11.*)\n\n/.exec(text)![1]!)).toEqual({ ...event, index: 11 });
    stream.req.destroy();
  });

  it('sends heartbeat comments while idle', async () => {
    const stream = await openStream();
    expect(await stream.until(/: ping\n\n/)).toContain(': ping\n\n');
    stream.req.destroy();
  });

  it('relays nothing but well-formed result events, so no message can break the framing', async () => {
    const stream = await openStream();
    await stream.until(/retry: 3000/);
    for (const bad of ['not json', '{"index": "x"}', JSON.stringify({ ...event, value: 'a\n\nevent: evil' }).replace('\\n\\n', '\n\n')]) {
      await t.redis.publish(RESULTS_CHANNEL, bad);
    }
    await t.redis.publish(RESULTS_CHANNEL, JSON.stringify({ ...event, index: 11, extra: 'dropped' }));
    const text = await stream.until(/event: result\n/);
    expect(text.match(/event: /g)).toHaveLength(1);
    expect(JSON.parse(/data: (.*)\n\n/.exec(text)![1]!)).toEqual({ ...event, index: 11 });
    stream.req.destroy();
  });

  it('forgets a client once it disconnects', async () => {
    const stream = await openStream();
    await stream.until(/retry: 3000/);
    expect(t.events.size).toBe(1);
    stream.req.destroy();
    await expect.poll(() => t.events.size).toBe(0);
  });

  // Last: shutting the hub down ends this file's streams for good.
  it('ends every stream on shutdown and refuses new ones with a 503 JSON error', async () => {
    const streams = await Promise.all([openStream(), openStream()]);
    await Promise.all(streams.map((stream) => stream.until(/retry: 3000/)));
    t.events.close();
    await Promise.all(streams.map((stream) => stream.ended));

    const refused = await fetch(`${baseUrl}/api/events`);
    expect(refused.status).toBe(503);
    expect(await refused.json()).toEqual({ error: { code: 'service_unavailable', message: expect.any(String) } });
  });
});
