import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fibonacciJob } from '@fibstack/contract/jobs';
import { loadConfig } from '../config.js';
import { secretComparer } from './queues-dashboard.js';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

const PASSWORD = 'correct horse battery';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the queue dashboard (bull-board) when off, as by default', () => {
  let t: AppUnderTest;
  beforeAll(async () => {
    t = await startAppUnderTest();
  });
  afterAll(() => t.close());

  it('does not exist', async () => {
    const response = await request(t.app).get('/admin/queues').set('Authorization', basic('admin', PASSWORD));
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });
});

describe('the queue dashboard when on', () => {
  let t: AppUnderTest;
  beforeAll(async () => {
    // Behind one trusted proxy (the edge), as in compose and k8s: X-Forwarded-For names the client.
    t = await startAppUnderTest({
      BULL_BOARD_ENABLED: 'true',
      BULL_BOARD_USERNAME: 'ops',
      BULL_BOARD_PASSWORD: PASSWORD,
      TRUST_PROXY: '1',
    });
    const job = fibonacciJob({ index: 77, requestId: 'dashboard' });
    await t.queue.add(job.name, job.data, job.opts);
  });
  afterAll(() => t.close());

  it.each([
    ['no credentials', undefined],
    ['a wrong password', basic('ops', 'guess')],
    ['a wrong user', basic('admin', PASSWORD)],
    ['another scheme', `Bearer ${PASSWORD}`],
    ['garbage', 'Basic !!!'],
  ])('refuses %s with a 401 challenge and the JSON error', async (_case, authorization) => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const call = request(t.app).get(path);
      const response = await (authorization ? call.set('Authorization', authorization) : call);
      expect(response.status).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Basic realm="fibstack queues", charset="UTF-8"');
      expect(response.body.error.code).toBe('unauthorized');
    }
  });

  it('serves the dashboard and its API with the right credentials', async () => {
    const page = await request(t.app).get('/admin/queues').set('Authorization', basic('ops', PASSWORD));
    expect(page.status).toBe(200);
    expect(page.text).toContain('<base href="/admin/queues/"');
    const api = await request(t.app).get('/admin/queues/api/queues').set('Authorization', basic('ops', PASSWORD));
    expect(api.status).toBe(200);
    const fibonacci = (api.body.queues as Array<{ name: string; counts: Record<string, number> }>).find(
      (queue) => queue.name === 'fibonacci',
    );
    expect(fibonacci?.counts.waiting).toBe(1);
  });

  // Each test signs in from an address of its own (documentation addresses, RFC 5737), as a client behind
  // a trusted proxy: the throttle counts per address.
  const from = (address: string, authorization?: string) => {
    const call = request(t.app).get('/admin/queues/api/queues').set('X-Forwarded-For', address);
    return authorization ? call.set('Authorization', authorization) : call;
  };

  it('refuses an address that sent 10 wrong credentials with a JSON 429 and Retry-After, even with the right ones, and only that address', async () => {
    const guesser = '198.51.100.7';
    for (let guess = 0; guess < 10; guess++) expect((await from(guesser, basic('ops', `guess-${guess}`))).status).toBe(401);
    for (const authorization of [basic('ops', 'guess-10'), basic('ops', PASSWORD)]) {
      const refused = await from(guesser, authorization);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('too many failed sign-ins') } });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(800);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(900);
    }
    expect((await from('198.51.100.8', basic('ops', PASSWORD))).status).toBe(200);
  });

  it('counts a request without credentials (a browser asking for the challenge) as no attempt', async () => {
    const browser = '198.51.100.9';
    for (let visit = 0; visit < 15; visit++) expect((await from(browser)).status).toBe(401);
    expect((await from(browser, basic('ops', PASSWORD))).status).toBe(200);
  });
});

describe('the credentials compare', () => {
  const same = secretComparer(PASSWORD);

  it('accepts the password and nothing else: not a prefix, an extension, another of the same length, or nothing', () => {
    expect(same(PASSWORD)).toBe(true);
    for (const guess of [PASSWORD.slice(0, -1), `${PASSWORD}x`, PASSWORD.replace('c', 'C'), '', 'correct'])
      expect(same(guess), guess).toBe(false);
    expect(secretComparer('pässwörd-ünïcode')('pässwörd-ünïcode')).toBe(true);
  });
});

describe('its configuration', () => {
  it.each([[{}], [{ BULL_BOARD_PASSWORD: 'short' }]])('requires a password of 12 characters or more when on (%o)', (env) => {
    expect(() => loadConfig({ BULL_BOARD_ENABLED: 'true', ...env })).toThrow(
      /BULL_BOARD_PASSWORD: must be set, at least 12 characters, when BULL_BOARD_ENABLED is true/,
    );
  });

  it('needs nothing when off', () => {
    expect(loadConfig({})).toMatchObject({ BULL_BOARD_ENABLED: false, BULL_BOARD_USERNAME: 'admin' });
  });
});
