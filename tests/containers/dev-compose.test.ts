import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, eventually, provisionBaseImages, REPO_ROOT, type ComposeProject } from './docker.js';

const BASE = 'http://127.0.0.1:3050';

/** A throwaway copy of the working tree (tracked and new files; deleted ones stay deleted). */
function copyOfRepository(): string {
  const copy = mkdtempSync(join(tmpdir(), 'fibstack-dev-'));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file && existsSync(join(REPO_ROOT, file)));
  for (const file of files) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(copy, file));
  }
  return copy;
}

async function notFoundMessage(): Promise<string> {
  const body = (await (await fetch(`${BASE}/api/nope`)).json()) as { error: { message: string } };
  return body.error.message;
}

/** Status of a WebSocket upgrade to Vite's HMR endpoint through the edge (101 when it is proxied). */
async function hmrUpgradeStatus(): Promise<number> {
  const viteClient = await (await fetch(`${BASE}/@vite/client`)).text();
  const token = /wsToken = "([^"]+)"/.exec(viteClient)?.[1] ?? '';
  return new Promise((resolve, reject) => {
    const upgrade = request(`${BASE}/?token=${encodeURIComponent(token)}`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Protocol': 'vite-hmr',
      },
      timeout: 5_000,
    });
    upgrade.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode!);
    });
    upgrade.on('response', (response) => {
      response.resume();
      resolve(response.statusCode!);
    });
    upgrade.on('timeout', () => upgrade.destroy(new Error('no answer to the upgrade')));
    upgrade.on('error', reject);
    upgrade.end();
  });
}

/** `docker-compose -f docker-compose.dev.yml up`: bind-mounted source, hot reload through the edge. */
describe('docker-compose.dev.yml', () => {
  let copy: string;
  let project: ComposeProject;

  beforeAll(async () => {
    await provisionBaseImages();
    copy = copyOfRepository();
    project = { name: 'fibstack-dev-test', files: ['docker-compose.dev.yml'], cwd: copy };
    await compose(project, ['up', '-d', '--build'], 900_000);
    await eventually(async () => (await fetch(`${BASE}/api/values`)).status === 200, 600_000, 'the dev stack on :3050');
  });

  afterAll(async () => {
    if (project) await compose(project, ['down', '-v', '--remove-orphans']).catch(() => undefined);
    if (copy) rmSync(copy, { recursive: true, force: true });
  });

  it('serves the client from the Vite dev server and the API through the edge', async () => {
    const page = await (await fetch(`${BASE}/`)).text();
    expect(page).toContain('/@vite/client');
    const submitted = await fetch(`${BASE}/api/values`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ index: 10 }),
    });
    expect(submitted.status).toBe(202);
    await eventually(async () => (await (await fetch(`${BASE}/api/values/10`)).json()).status === 'done', 60_000, 'fib(10)');
  });

  it("proxies Vite's hot-module-replacement WebSocket through the edge", async () => {
    expect(await hmrUpgradeStatus()).toBe(101);
  });

  it('serves an edit to a server source file without a rebuild', async () => {
    expect(await notFoundMessage()).toMatch(/^no route for GET /);
    const file = join(copy, 'server/src/http/errors.ts');
    writeFileSync(file, readFileSync(file, 'utf8').replace('`no route for ${req.method}', '`nothing here for ${req.method}'));
    await eventually(async () => (await notFoundMessage()).startsWith('nothing here for'), 60_000, 'the edited server');
  });
});
