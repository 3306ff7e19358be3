import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startHealthServer } from './health-server.js';
import type { Server } from 'node:http';

let server: Server | undefined;

afterEach(() => {
  server?.close();
});

async function listening(isClosing: () => boolean, registry?: Registry): Promise<string> {
  server = startHealthServer(0, isClosing, registry);
  await new Promise((resolve) => server!.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('health server', () => {
  it('answers 200 while running, 503 while closing, 404 elsewhere', async () => {
    let closing = false;
    const base = await listening(() => closing);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/other`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`)).status).toBe(404);
    closing = true;
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'closing' });
  });

  it('serves the registry at /metrics in the Prometheus text format', async () => {
    const registry = new Registry();
    new Counter({ name: 'probe_total', help: 'a probe', registers: [registry] }).inc(3);
    const base = await listening(() => false, registry);
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    expect(await response.text()).toContain('probe_total 3');
  });
});
