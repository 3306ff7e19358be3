import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadline, eventually, submitIndex, submitOnFreshConnection, submitReadingAnswer, within } from './testkit.js';

describe('eventually', () => {
  it('returns once the check passes, retrying checks that throw', async () => {
    let calls = 0;
    await eventually(
      () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
        return true;
      },
      5_000,
      'the third call',
      { intervalMs: 1 },
    );
    expect(calls).toBe(3);
  });

  it('names what it waited for and the last error when the wait runs out', async () => {
    let calls = 0;
    const failing = () => {
      calls++;
      throw new Error(`refused #${calls}`);
    };
    const error = await eventually(failing, 50, 'the API', { intervalMs: 5 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(`timed out after 50 ms waiting for the API (last error: refused #${calls})`);
  });

  it('gives up on an attempt that hangs', async () => {
    const error = await eventually(() => new Promise<boolean>(() => undefined), 50, 'a hung check').catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('timed out after 50 ms waiting for a hung check');
  });
});

describe('within and deadline', () => {
  it('settles like the promise, or resolves to undefined when it takes too long', async () => {
    expect(await within(Promise.resolve(7), 1_000)).toBe(7);
    expect(await within(new Promise(() => undefined), 5)).toBeUndefined();
  });

  it('counts down to zero', () => {
    const past = deadline(0);
    expect(past.passed()).toBe(true);
    expect(past.left()).toBe(0);
    expect(deadline(60_000).passed()).toBe(false);
  });
});

describe('submitting an index', () => {
  const received: Array<{ body: string; forwardedFor?: string; connection?: string }> = [];
  const TRY_AGAIN = '{"error":{"code":"service_unavailable","message":"try again shortly"}}';
  /** How many of the next POSTs are answered 503. */
  let unavailableFor = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ body, forwardedFor: req.headers['x-forwarded-for'] as string | undefined, connection: req.headers.connection });
      if (unavailableFor > 0) {
        unavailableFor--;
        return void res.writeHead(503).end(TRY_AGAIN);
      }
      res.writeHead(req.url === '/api/values' && req.method === 'POST' ? 202 : 404).end();
    });
  });
  let baseUrl = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('POSTs {"index": n} to /api/values with the given headers and returns the status', async () => {
    expect(await submitIndex(baseUrl, 12, { 'X-Forwarded-For': '198.51.100.1' })).toBe(202);
    expect(received.at(-1)).toMatchObject({ body: '{"index":12}', forwardedFor: '198.51.100.1' });
  });

  it('on a fresh connection, reports a refused connection as an error instead of throwing', async () => {
    expect(await submitOnFreshConnection(baseUrl, 13)).toEqual({ status: 202 });
    expect(received.at(-1)).toMatchObject({ body: '{"index":13}', connection: 'close' });
    expect(await submitOnFreshConnection('http://127.0.0.1:1', 14)).toEqual({ error: 'ECONNREFUSED' });
  });

  it('returns the body of an answer with its status, so that a refusal can say what it was', async () => {
    unavailableFor = 1;
    expect(await submitReadingAnswer(baseUrl, 21, { 'X-Forwarded-For': '198.51.100.2' })).toEqual({ status: 503, body: TRY_AGAIN });
    expect(await submitReadingAnswer(baseUrl, 22)).toEqual({ status: 202, body: '' });
    expect(received.slice(-2)).toMatchObject([
      { body: '{"index":21}', forwardedFor: '198.51.100.2' },
      { body: '{"index":22}', forwardedFor: undefined },
    ]);
  });
});
