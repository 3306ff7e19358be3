import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAppUnderTest, type AppUnderTest } from '../testing/app-under-test.js';

/** Like the real one: a static shell (over the 1 KB compression threshold) and the bundle. */
const INDEX_HTML = `<!doctype html><script type="module" src="/assets/app-3f2a1b.js"></script><main>${'<p>Fibonacci</p>'.repeat(80)}</main>`;
const SECRET = 'not-for-the-web';
/** A bundle-like asset, large enough to be worth compressing. */
const BUNDLE = Array.from({ length: 400 }, (_, i) => `export const value${i} = ${i} * 2;`).join('\n');
let t: AppUnderTest;
let server: Server;
let root: string;

beforeAll(async () => {
  // A built client, with a file beside it that must never be served.
  root = await mkdtemp(join(tmpdir(), 'fibstack-static-'));
  const dir = join(root, 'dist');
  await mkdir(join(dir, 'assets'), { recursive: true });
  await writeFile(join(dir, 'index.html'), INDEX_HTML);
  await writeFile(join(dir, 'assets', 'app-3f2a1b.js'), 'console.log(1);');
  await writeFile(join(dir, 'assets', 'bundle-9c8d7e.js'), BUNDLE);
  await writeFile(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(join(root, 'secret.txt'), SECRET);
  t = await startAppUnderTest({ STATIC_DIR: dir });
  server = t.app.listen(0, '127.0.0.1');
});
afterAll(async () => {
  server.close();
  await t.close();
  await rm(root, { recursive: true, force: true });
});

/** GET over a plain socket, so the body arrives exactly as sent (a test client would decode it). */
function rawGet(path: string, acceptEncoding?: string) {
  const { port } = server.address() as AddressInfo;
  const headers = acceptEncoding ? { 'Accept-Encoding': acceptEncoding } : {};
  return new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('serving the built client (STATIC_DIR)', () => {
  it.each([['/'], ['/values/10'], ['/index.html']])('serves index.html uncached for %s', async (path) => {
    const response = await request(t.app).get(path);
    expect(response.status).toBe(200);
    expect(response.text).toBe(INDEX_HTML);
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it('sends a strict CSP that the client satisfies: no inline script, API on the same origin', async () => {
    const csp = (await request(t.app).get('/')).headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
  });

  it('caches hashed assets for good, and other files normally', async () => {
    const asset = await request(t.app).get('/assets/app-3f2a1b.js');
    expect(asset.status).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const icon = await request(t.app).get('/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.headers['content-type']).toContain('image/svg+xml');
  });

  it.each([
    ['gzip', gunzipSync],
    ['br', brotliDecompressSync],
  ])('sends assets %s-compressed to clients that accept it', async (encoding, decode) => {
    const response = await rawGet('/assets/bundle-9c8d7e.js', encoding);
    expect(response.headers['content-encoding']).toBe(encoding);
    expect(response.headers.vary).toContain('Accept-Encoding');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.body.length).toBeLessThan(BUNDLE.length / 4);
    expect(decode(response.body).toString()).toBe(BUNDLE);
  });

  it('compresses index.html on every route, and sends plain bytes to clients that ask for none', async () => {
    for (const path of ['/', '/values/10']) {
      const response = await rawGet(path, 'gzip');
      expect(response.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(response.body).toString()).toBe(INDEX_HTML);
    }
    const plain = await rawGet('/assets/bundle-9c8d7e.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(BUNDLE);
  });

  it('answers a missing asset with a 404 JSON error, not index.html', async () => {
    const response = await request(t.app).get('/assets/app-000000.js');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('not_found');
  });

  it('keeps /api JSON: unknown API routes and non-GET methods are 404 errors', async () => {
    for (const call of [request(t.app).get('/api/nope'), request(t.app).get('/api'), request(t.app).post('/values/10')]) {
      const response = await call;
      expect(response.status).toBe(404);
      expect(response.body.error.code).toBe('not_found');
    }
    expect((await request(t.app).post('/api/values').send({ index: 3 })).status).toBe(202);
  });

  it.each([['/..%2fsecret.txt'], ['/assets/..%2f..%2fsecret.txt'], ['/%2e%2e/secret.txt'], ['/assets/%2e%2e/%2e%2e/secret.txt']])(
    'never serves a file outside the directory (%s)',
    async (path) => {
      const response = await request(t.app).get(path);
      expect(response.status).toBeLessThan(500);
      expect(response.text).not.toContain(SECRET);
    },
  );

  it('answers any path without a 5xx', async () => {
    const segment = fc.oneof(
      fc.webSegment(),
      fc.constantFrom('..', '.', '%', '%E0%A4%A', '%00', '%2F', '%2e%2e', 'assets', 'api', 'values'),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { maxLength: 5 }), fc.constantFrom('GET', 'HEAD', 'POST'), async (segments, method) => {
        const path = `/${segments.join('/')}`;
        const call =
          method === 'GET' ? request(t.app).get(path) : method === 'HEAD' ? request(t.app).head(path) : request(t.app).post(path);
        const response = await call;
        expect(response.status).toBeLessThan(500);
        expect(response.text ?? '').not.toContain(SECRET);
      }),
      { numRuns: 300 },
    );
  });
});
