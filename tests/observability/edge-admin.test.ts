import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEdge, type Edge } from './edge-nginx.js';
import { startObservedStack, type ObservedStack } from './observed-stack.js';

/**
 * bull-board is mounted on the API at /admin/queues when BULL_BOARD_ENABLED is true. The public edge
 * (the real nginx configuration, nginx on PATH) must never lead there, whatever the path's spelling.
 */
const PASSWORD = 'operators-only-secret';
const AUTHORIZATION = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
let observed: ObservedStack;
let edge: Edge;

beforeAll(async () => {
  observed = await startObservedStack({
    env: { LOG_LEVEL: 'warn' },
    serviceEnv: { server: { BULL_BOARD_ENABLED: 'true', BULL_BOARD_PASSWORD: PASSWORD } },
  });
  // Natively the API also serves the built client (STATIC_DIR), so it stands in for the client upstream too.
  const upstream = new URL(observed.stack.serverUrl).host;
  edge = await startEdge({ server: upstream, client: upstream });
});

afterAll(async () => {
  await edge?.stop();
  await observed?.stop();
});

/** GET with the path sent exactly as written (fetch would resolve `..` and case before sending). */
function rawGet(base: string, path: string): Promise<{ status: number; body: string; challenge?: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const req = request({ hostname, port, path, method: 'GET', headers: { Authorization: AUTHORIZATION } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, challenge: res.headers['www-authenticate'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

const isDashboard = (body: string) => body.includes('<base href="/admin/queues/"') || body.includes('"queues":');

describe('the queue dashboard behind the edge', () => {
  it('is on, and served by the API to whoever reaches the API directly with the credentials', async () => {
    const direct = await rawGet(observed.stack.serverUrl, '/admin/queues');
    expect(direct.status).toBe(200);
    expect(isDashboard(direct.body)).toBe(true);
  });

  it('is refused by the edge with a JSON 404, the app still served', async () => {
    const response = await rawGet(edge.url, '/admin/queues');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    const submit = await fetch(`${edge.url}/api/values`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"index": 3}',
    });
    expect(submit.status).toBe(202);
  });

  it.each([
    '/admin/queues/',
    '/admin/queues/api/queues',
    '/admin/queues/../../api/values',
    '/admin/queues/../../api',
    '/admin/queues/%2e%2e/%2e%2e/api/values',
    '/admin/queues/..%2f..%2fapi/values',
    '/admin/queues/queue/..%2f..%2f..%2fapi/values',
    '/admin/queues/queue/%2e%2e%2f%2e%2e%2f%2e%2e%2fapi/values',
    '/ADMIN/queues/../../api/values',
    '/Admin/Queues/../../api/events',
    '//admin/queues/../../api/values',
    '/api/../admin/queues',
    '/api/%2e%2e/admin/queues/api/queues',
    '/api/values/../../admin/queues',
  ])('never leads to the dashboard: %s', async (path) => {
    const response = await rawGet(edge.url, path);
    expect(isDashboard(response.body), `${response.status} ${response.body.slice(0, 200)}`).toBe(false);
    // A 401 challenge would mean the request reached the dashboard's login.
    expect(response.challenge).toBeUndefined();
  });
});
