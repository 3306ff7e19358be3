import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { EDGE_ERROR_CASES } from './edge-errors.js';
import { checkConfig, clientLayout, edgeLayout, hasNginx, NGINX_MISSING_HELP, runNginx, type RunningNginx } from './nginx.js';
import { rawRequest } from '../support/raw-http.js';

/**
 * Every nginx configuration in the repository, checked and run by the real nginx binary, without Docker:
 * the edge (production and dev templates) and the client's own nginx.
 */
beforeAll(() => {
  if (!hasNginx()) throw new Error(NGINX_MISSING_HELP);
});

describe('nginx -t', () => {
  const layouts = {
    'the edge (nginx/templates)': () =>
      edgeLayout({ templates: 'templates', port: 8081, serverUpstream: '127.0.0.1:5000', clientUpstream: '127.0.0.1:8080' }),
    'the dev edge (nginx/templates-dev)': () =>
      edgeLayout({ templates: 'templates-dev', port: 8081, serverUpstream: '127.0.0.1:5000', clientUpstream: '127.0.0.1:5173' }),
    "the client's nginx (client/nginx)": () => clientLayout(8080),
  };

  for (const [name, layout] of Object.entries(layouts)) {
    it(`accepts ${name}`, async () => {
      const { prefix, ...rest } = await layout();
      try {
        const verdict = await checkConfig({ prefix, ...rest });
        expect(verdict.output).toContain('test is successful');
        expect(verdict.ok).toBe(true);
      } finally {
        await rm(prefix, { recursive: true, force: true });
      }
    });
  }
});

describe('the edge, run with its API and client unreachable', () => {
  let port: number;
  let prefix: string;
  let nginx: RunningNginx;

  beforeAll(async () => {
    port = await freePort();
    // Ports nothing listens on: the upstreams are down.
    const layout = await edgeLayout({
      templates: 'templates',
      port,
      serverUpstream: `127.0.0.1:${await freePort()}`,
      clientUpstream: `127.0.0.1:${await freePort()}`,
    });
    prefix = layout.prefix;
    nginx = await runNginx(layout, port);
  });

  afterAll(async () => {
    await nginx?.stop();
    await rm(prefix, { recursive: true, force: true });
  });

  for (const { what, request, status, code } of EDGE_ERROR_CASES) {
    it(`answers ${what} with a JSON ${status} ${code}`, async () => {
      const response = await rawRequest(port, request);
      expect(response.status).toBe(status);
      expect(response.headers['content-type']).toBe('application/json');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-request-id']).toMatch(/^(edge-case|[0-9a-f]{32})$/);
      expect(JSON.parse(response.body)).toEqual({ error: { code, message: expect.any(String) } });
    });
  }

  it('answers a JSON 503 with Retry-After when the API is down, keeping the request id', async () => {
    for (const path of ['/api/values', '/api', '/api/events']) {
      const response = await rawRequest(
        port,
        `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nX-Request-Id: trace-503\r\n\r\n`,
      );
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.headers['x-request-id']).toBe('trace-503');
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'service_unavailable' } });
    }
  });

  it('keeps a HEAD answer bodiless', async () => {
    const response = await rawRequest(port, `HEAD /api/values/%E0%A4%A HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toBe('');
  });
});
