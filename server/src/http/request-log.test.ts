import { Writable } from 'node:stream';
import express from 'express';
import { pino } from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorHandler, HttpError } from './errors.js';
import { requestId } from './request-id.js';
import { requestLogging } from './request-log.js';

/** An app with the API's request id and logging, writing its log lines into `lines`. */
function loggedApp() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ base: { service: 'server' } }, sink);
  const app = express();
  app.use(requestId);
  app.use(requestLogging(app, logger, new Set(['/healthz'])));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/ok', (_req, res) => void res.json({ ok: true }));
  app.get('/warns', (req, res) => {
    req.log.warn({ detail: 42 }, 'something to look at');
    res.status(202).end();
  });
  app.get('/missing', () => {
    throw new HttpError('not_found', 'nothing here');
  });
  app.get('/down', () => {
    throw new HttpError('service_unavailable', 'the database is unavailable');
  });
  app.get('/boom', () => {
    throw new Error('a bug');
  });
  app.use(errorHandler(logger));
  // The line is written when the response closes, just after the client has its answer.
  const settled = async (count: number) => {
    for (let i = 0; i < 100 && lines.length < count; i++) await new Promise((resolve) => setImmediate(resolve));
    return lines;
  };
  return { app, lines, settled };
}

const completed = (lines: Array<Record<string, unknown>>) =>
  lines.filter((line) => line.msg === 'request completed' || line.msg === 'request errored');

describe('request logging', () => {
  it('logs one line per request with its id, method, URL, status and time', async () => {
    const { app, settled } = loggedApp();
    const response = await request(app).get('/ok?x=1').set('X-Request-Id', 'trace-1');
    expect(response.headers['x-request-id']).toBe('trace-1');
    const [line, ...more] = completed(await settled(1));
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      level: 30,
      service: 'server',
      req: { id: 'trace-1', method: 'GET', url: '/ok?x=1' },
      res: { statusCode: 200 },
      msg: 'request completed',
    });
    expect(typeof line!.responseTime).toBe('number');
  });

  it('binds the request to what a handler logs through req.log', async () => {
    const { app, settled } = loggedApp();
    await request(app).get('/warns').set('X-Request-Id', 'trace-2');
    const lines = await settled(2);
    expect(lines.find((line) => line.msg === 'something to look at')).toMatchObject({
      level: 40,
      detail: 42,
      req: { id: 'trace-2', method: 'GET', url: '/warns' },
    });
    expect(completed(lines)).toHaveLength(1);
  });

  it('logs 4xx and 503 at warn and other 5xx at error, and never logs probes', async () => {
    const { app, settled } = loggedApp();
    await request(app).get('/healthz');
    await request(app).get('/missing');
    await request(app).get('/down');
    await request(app).get('/boom');
    const lines = completed(await settled(5));
    expect(
      lines.map((line) => [(line.req as { url: string }).url, (line.res as { statusCode: number }).statusCode, line.level, line.msg]),
    ).toEqual([
      ['/missing', 404, 40, 'request completed'],
      ['/down', 503, 40, 'request errored'],
      ['/boom', 500, 50, 'request errored'],
    ]);
  });

  it('mints a new id when the caller sends none or one unsafe to log', async () => {
    const { app, settled } = loggedApp();
    const minted = await request(app).get('/ok');
    const unsafe = await request(app).get('/ok').set('X-Request-Id', 'bad id\twith "quotes"');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(minted.headers['x-request-id']).toMatch(uuid);
    expect(unsafe.headers['x-request-id']).toMatch(uuid);
    const ids = completed(await settled(2)).map((line) => (line.req as { id: string }).id);
    expect(ids).toEqual([minted.headers['x-request-id'], unsafe.headers['x-request-id']]);
  });
});
