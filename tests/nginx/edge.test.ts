import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { EDGE_ERROR_CASES } from '../support/edge-errors.js';
import {
  checkConfig,
  clientLayout,
  edgeLayout,
  edgeRealIpConfig,
  hasNginx,
  NGINX_MISSING_HELP,
  runNginx,
  type RunningNginx,
} from '../support/nginx.js';
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

  it('sends Strict-Transport-Security with its own errors too, as the API and the client do (browsers keep it only over HTTPS)', async () => {
    const refused = await rawRequest(port, `TRACE /api/values HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    const unreachable = await rawRequest(port, `GET /api/values HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    for (const response of [refused, unreachable]) {
      expect(response.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    }
  });

  it('keeps a HEAD answer bodiless', async () => {
    const response = await rawRequest(port, `HEAD /api/values/%E0%A4%A HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.body).toBe('');
  });
});

describe('REAL_IP_FROM (nginx/entrypoint/10-edge-client-address.envsh)', () => {
  it('trusts nobody when unset or empty, and each address or CIDR given otherwise', () => {
    expect(edgeRealIpConfig(undefined)).toBe('');
    expect(edgeRealIpConfig('  ')).toBe('');
    expect(edgeRealIpConfig('10.0.0.0/16  fd00::/8')).toBe(
      'set_real_ip_from 10.0.0.0/16; set_real_ip_from fd00::/8; real_ip_header X-Forwarded-For; real_ip_recursive on;',
    );
  });

  it.each([['*'], ['10.0.0.0/8;include /etc/passwd'], ['10.0.0.0/8,10.1.0.0/16']])('refuses %s, naming the variable', (value) => {
    expect(() => edgeRealIpConfig(value)).toThrow(/^10-edge-client-address\.envsh: REAL_IP_FROM: ".*" is not an IP address or CIDR/);
  });
});

/** An upstream that answers every request with the headers it received, as JSON. */
async function headerEcho(): Promise<{ server: Server; host: string }> {
  const server = createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, host: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** GET through the edge from a chosen loopback address; resolves to the headers the upstream received. */
function upstreamHeaders(port: number, from: string, headers: Record<string, string>): Promise<IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/api/values', localAddress: from, agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(JSON.parse(body) as IncomingHttpHeaders) : reject(new Error(`${res.statusCode}: ${body}`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the client address the edge gives the API', () => {
  const balancer = '127.0.0.3';
  let echo: { server: Server; host: string };
  let port: number;
  let prefix: string;
  let nginx: RunningNginx;

  beforeAll(async () => {
    echo = await headerEcho();
    port = await freePort();
    const layout = await edgeLayout({
      templates: 'templates',
      port,
      serverUpstream: echo.host,
      clientUpstream: echo.host,
      realIpFrom: balancer,
    });
    prefix = layout.prefix;
    nginx = await runNginx(layout, port);
  });

  afterAll(async () => {
    await nginx?.stop();
    echo?.server.close();
    await rm(prefix, { recursive: true, force: true });
  });

  it("is the connection's, in an X-Forwarded-For of its own: whatever the client wrote there is dropped", async () => {
    const received = await upstreamHeaders(port, '127.0.0.8', { 'X-Forwarded-For': '198.51.100.1, 203.0.113.2' });
    expect(received['x-forwarded-for']).toBe('127.0.0.8');
    const log = await readFile(`${prefix}/access.log`, 'utf8');
    expect(log).toMatch(/^127\.0\.0\.8 /m);
    expect(log).not.toMatch(/198\.51\.100\.1|203\.0\.113\.2/);
  });

  it('is the one a balancer in REAL_IP_FROM names: the rightmost address it did not add itself', async () => {
    const received = await upstreamHeaders(port, balancer, { 'X-Forwarded-For': '198.51.100.1, 192.0.2.44' });
    expect(received['x-forwarded-for']).toBe('192.0.2.44');
  });
});

describe('the HTTPS redirect (kustomize/components/nlb-tls sends port 80 there)', () => {
  let port: number;
  let prefix: string;
  let nginx: RunningNginx;

  beforeAll(async () => {
    port = await freePort();
    const layout = await edgeLayout({
      templates: 'templates',
      port: await freePort(),
      redirectPort: port,
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

  it('sends every request to the same URL over HTTPS, keeping the method (308)', async () => {
    for (const method of ['GET', 'POST']) {
      const response = await rawRequest(
        port,
        `${method} /values/10?x=1 HTTP/1.1\r\nHost: fib.example.com\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      expect(response.status).toBe(308);
      expect(response.headers.location).toBe('https://fib.example.com/values/10?x=1');
    }
  });
});
