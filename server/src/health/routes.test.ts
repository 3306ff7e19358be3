import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

let t: AppUnderTest;

beforeAll(async () => {
  t = await startAppUnderTest();
});
afterAll(() => t.close());

describe('health endpoints', () => {
  it('are alive and ready while Postgres and Redis are up', async () => {
    expect((await request(t.app).get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'up', redis: 'up' } });
  });

  it('exposes request durations and queue counts in Prometheus format', async () => {
    await request(t.app).post('/api/values').send({ index: 3 });
    await request(t.app).get('/api/values/3');
    await request(t.app).get('/api/values/4');
    await request(t.app).get('/no/such/page');
    const metrics = await request(t.app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/api\/values",status="202"\} 1/);
    // Labelled by route pattern, never the raw URL, so label cardinality stays bounded.
    expect(metrics.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/values\/:index",status="200"\} 1/);
    expect(metrics.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/values\/:index",status="404"\} 1/);
    expect(metrics.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/);
    expect(metrics.text).not.toContain('/no/such/page');
    expect(metrics.text).toMatch(/fibstack_queue_jobs\{state="waiting"\} 1/);
    for (const state of ['active', 'delayed', 'failed']) expect(metrics.text).toContain(`fibstack_queue_jobs{state="${state}"} 0`);
    expect(metrics.text).toContain('process_resident_memory_bytes');
    expect(metrics.text).toContain('fibstack_dependency_up{dependency="postgres"} 1');
    expect(metrics.text).toContain('fibstack_dependency_up{dependency="redis"} 1');
  });

  // Last: it stops this file's Redis.
  it('stays ready when Redis goes away (submissions are durable in Postgres), reports Redis down and keeps accepting', async () => {
    await t.redisServer.stop();
    const ready = await request(t.app).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'up', redis: 'down' } });
    expect((await request(t.app).get('/healthz')).status).toBe(200);

    const metrics = await request(t.app).get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain('fibstack_dependency_up{dependency="redis"} 0');
    expect(metrics.text).toContain('fibstack_dependency_up{dependency="postgres"} 1');

    const before = await t.count('submitted_indexes');
    const submitted = await request(t.app).post('/api/values').send({ index: 21 });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toEqual({ index: 21, status: 'pending', submissionId: expect.stringMatching(/^\d+$/) });
    expect(await t.count('submitted_indexes')).toBe(before + 1);
  });
});
