import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import type { ResultEvent } from '@fibstack/contract/values';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;
let baseUrl: string;
let close: () => void;

beforeAll(async () => {
  t = await startAppUnderTest();
  const server = t.app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () => {
    server.closeAllConnections();
    server.close();
  };
});
afterAll(async () => {
  close();
  await t.close();
});

/** Opens the event stream and collects its text until `until` matches. */
function readStream(until: RegExp): Promise<{ response: IncomingMessage; text: string; opened: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}/api/events`, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        if (until.test(text)) {
          req.destroy();
          resolve({ response, text, opened: Promise.resolve() });
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /api/events', () => {
  it('streams each published result as an SSE `result` event, with stream-friendly headers', async () => {
    const event: ResultEvent = {
      index: 10,
      value: '55',
      digits: 2,
      truncated: false,
      computeMs: 0.1,
      computedAt: new Date().toISOString(),
    };
    const streamed = readStream(/event: result\ndata: .*\n\n/);
    // Publish until the stream has attached (the subscriber delivers only to connected clients).
    const publisher = setInterval(() => void t.redis.publish(RESULTS_CHANNEL, JSON.stringify(event)), 50);
    const { response, text } = await streamed;
    clearInterval(publisher);

    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache, no-transform');
    expect(response.headers['x-accel-buffering']).toBe('no');
    expect(text.startsWith('retry: 3000\n\n')).toBe(true);
    const data = /event: result\ndata: (.*)\n\n/.exec(text)?.[1];
    expect(JSON.parse(data!)).toEqual(event);
  });

  it('sends heartbeat comments while idle', async () => {
    const { text } = await readStream(/: ping\n\n/);
    expect(text).toContain(': ping\n\n');
  });
});
