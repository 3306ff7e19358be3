import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { copyOfRepository, edit, launch, renameSave, type Launched } from '../support/checkout.js';
import {
  CONTRACT_EDIT_REFUSES,
  editClient,
  editContract,
  editRequiredMessage,
  editServer,
  editServiceKit,
  editWorker,
  get,
  runnerReady,
} from '../support/developer-edits.js';
import { freePort } from '@fibstack/devstack/ports';
import { compose, docker, eventually, provisionBaseImages, type ComposeProject } from './docker.js';

/** The edge's port: a free one (FIBSTACK_PORT), so the production compose test may hold 3050 meanwhile. */
const PORT = await freePort();
const BASE = `http://127.0.0.1:${PORT}`;
/** Edits are measured against this bound: generous for a loaded CI machine (bench/README.md and scripts/README.md have the numbers). */
const SERVED_WITHIN_MS = 30_000;
/** The owner the copy gets when the test runs as root: neither root nor 1000, a usual default. */
const DEVELOPER_UID = 4321;
const timings: Record<string, number | string> = {};

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

/** Every file and folder under `dir` (symlinks not followed) whose owner is not `uid`. */
function notOwnedBy(dir: string, uid: number): string[] {
  const strangers: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.uid !== uid) strangers.push(`${path} (uid ${stat.uid})`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return strangers;
}

/** `docker-compose -f docker-compose.dev.yml up`: bind-mounted source, every edit served in seconds. */
describe('docker-compose.dev.yml', () => {
  let copy: string;
  let owner: number;
  let project: ComposeProject;
  let browser: BrowserContext;
  let page: Page;
  const followers: Launched[] = [];

  /** A service's log from `since` on, as it comes. */
  async function follow(service: string, since: Date): Promise<Launched> {
    const id = (await compose(project, ['ps', '-q', service])).trim();
    const logs = launch('docker', ['logs', '--follow', '--since', since.toISOString(), id], { cwd: copy });
    followers.push(logs);
    return logs;
  }

  /** Waits until the server's and the worker's runners have their next process loaded (a developer's pace). */
  async function runnersReady() {
    const logsOf = async (service: string) => {
      const id = (await compose(project, ['ps', '-q', service])).trim();
      const { stdout } = await promisify(execFile)('docker', ['logs', id], { maxBuffer: 64 * 1024 * 1024 });
      return stdout;
    };
    await eventually(async () => runnerReady(await logsOf('server')) && runnerReady(await logsOf('worker')), 60_000, 'the runners');
  }

  beforeAll(async () => {
    await provisionBaseImages();
    copy = copyOfRepository('fibstack-dev-');
    // As root, hand the copy to an ordinary user, so that a file the stack writes as root shows up.
    if (process.getuid?.() === 0) execFileSync('chown', ['-R', `${DEVELOPER_UID}:${DEVELOPER_UID}`, copy]);
    owner = statSync(copy).uid;
    project = { name: 'fibstack-dev-test', files: ['docker-compose.dev.yml'], cwd: copy, env: { FIBSTACK_PORT: String(PORT) } };
    await compose(project, ['down', '-v', '--remove-orphans']);
    const started = Date.now();
    await compose(project, ['up', '-d', '--build'], 900_000);
    await eventually(async () => (await fetch(`${BASE}/api/values`)).status === 200, 600_000, `the dev stack on :${PORT}`);
    timings['first up (images built, npm ci into the volume)'] = Date.now() - started;
    browser = await launchChromium();
    page = await browser.newPage();
    await page.goto(BASE);
    await page.getByRole('heading', { level: 1 }).waitFor();
  });

  afterAll(async () => {
    for (const logs of followers) logs.child.kill();
    await browser?.close();
    if (project) await compose(project, ['down', '-v', '--remove-orphans']).catch(() => undefined);
    if (copy) rmSync(copy, { recursive: true, force: true });
    console.log('dev compose, ms:', timings);
  });

  it('runs every Node service as the owner of the checkout, not root', async () => {
    for (const service of ['server', 'worker', 'client']) {
      const id = (await compose(project, ['ps', '-q', service])).trim();
      const processes = (await docker(['top', id, '-eo', 'pid,uid,args']))
        .split('\n')
        .slice(1)
        .map((line) => line.trim().split(/\s+/));
      const node = processes.filter(([, , command]) => basename(command ?? '') === 'node');
      expect(node.length).toBeGreaterThan(0);
      for (const [, uid] of node) expect(Number(uid)).toBe(owner);
    }
  });

  it('asks every Redis client for a password, as docker-compose.yml does', async () => {
    expect(await compose(project, ['exec', '-T', 'redis', 'redis-cli', 'ping'])).toContain('NOAUTH Authentication required.');
  });

  it('serves the client from the Vite dev server and the API through the edge', async () => {
    expect((await get(`${BASE}/`)).body).toContain('/@vite/client');
    expect((await get(`${BASE}/api/values`, { method: 'POST', body: '{"index":10}' })).status).toBe(202);
    await eventually(async () => JSON.parse((await get(`${BASE}/api/values/10`)).body).status === 'done', 60_000, 'fib(10)');
  });

  it("proxies Vite's hot-module-replacement WebSocket through the edge", async () => {
    expect(await hmrUpgradeStatus()).toBe(101);
  });

  it('keeps the server and the worker running while unreadable files and folders come and go in every watched tree', async () => {
    const since = new Date();
    const logs = { server: await follow('server', since), worker: await follow('worker', since) };
    const startedAt = async (service: string) =>
      docker(['inspect', '-f', '{{.State.StartedAt}} {{.State.Running}}', (await compose(project, ['ps', '-q', service])).trim()]);
    const before = { server: await startedAt('server'), worker: await startedAt('worker') };
    /** Each tree the runners watch (their own workspace's src/ and their workspace dependencies'), with a file in it. */
    const trees = [
      { tree: 'server/src', file: 'http/errors.ts', services: ['server'] as const },
      { tree: 'worker/src', file: 'main.ts', services: ['worker'] as const },
      { tree: 'contract/src', file: 'values.ts', services: ['server', 'worker'] as const },
      { tree: 'service-kit/src', file: 'logger.ts', services: ['server', 'worker'] as const },
    ];
    /** Makes a change once the runners are ready, and waits until each runner of `services` restarts for it. */
    const reported = async (services: readonly ('server' | 'worker')[], change: () => void, path: string) => {
      await runnersReady();
      const pattern = new RegExp(`\\] ${path.replaceAll('.', '\\.')}\\S* changed: restarting`);
      const seen = services.map((service) => logs[service].waitFor(pattern, SERVED_WITHIN_MS, true));
      change();
      await Promise.all(seen);
    };

    for (const { tree, file, services } of trees) {
      const folder = join(copy, tree);
      // Left beside the sources while the rest happens: a file the runners may not read (sed -i's temporary
      // file is root's and mode 600; mode 000 is unreadable to any user but root), and such a folder.
      const unreadable = join(folder, 'sedA2Qn73');
      writeFileSync(unreadable, '', { mode: 0o000 });
      const closed = join(folder, 'closed');
      mkdirSync(closed, { mode: 0o000 });
      try {
        // A real sed -i by this test's user (root on CI): a short-lived temporary file, renamed over the original.
        await reported(services, () => execFileSync('sed', ['-i', '$a // saved with sed -i', join(folder, file)]), `${tree}/${file}`);
        // A new folder with a source in it, then the folder deleted.
        const extra = join(folder, 'feature/deep/extra.ts');
        await reported(
          services,
          () => {
            mkdirSync(dirname(extra), { recursive: true });
            writeFileSync(extra, 'export {};\n');
          },
          `${tree}/feature/deep/extra.ts`,
        );
        await reported(services, () => rmSync(join(folder, 'feature'), { recursive: true }), `${tree}/feature`);
      } finally {
        rmSync(join(folder, 'feature'), { recursive: true, force: true });
        rmSync(unreadable);
        rmdirSync(closed);
      }
    }

    // Neither runner died (the dev compose restarts nothing), and the API still serves.
    expect({ server: await startedAt('server'), worker: await startedAt('worker') }).toEqual(before);
    expect(before.server).toMatch(/ true$/);
    expect(before.worker).toMatch(/ true$/);
    expect((await get(`${BASE}/api/values`)).status).toBe(200);
  });

  it('serves an edit to server/, and no request fails at the edge during the restart', async () => {
    await runnersReady();
    const served = await editServer(copy, BASE, SERVED_WITHIN_MS);
    timings['server/ edit → served'] = served.ms;
    expect(served.failures).toEqual([]);
  });

  it('serves an edit to contract/ from the API and in the open page, nothing built', async () => {
    await runnersReady();
    const started = Date.now();
    const served = await editContract(copy, BASE, SERVED_WITHIN_MS);
    timings['contract/ edit → served by the API'] = served.ms;
    expect(served.failures).toEqual([]);
    // The page was open before the edit: its next rule check uses the edited contract.
    await eventually(
      async () => {
        // Before the edit the page accepts this index; from then on its own check refuses it.
        await page.getByRole('textbox', { name: 'Index' }).fill(String(CONTRACT_EDIT_REFUSES));
        await page.getByRole('button', { name: 'Calculate' }).click();
        return (
          (
            await page
              .getByRole('alert')
              .first()
              .textContent({ timeout: 2_000 })
              .catch(() => '')
          )?.includes('cannot be negative') ?? false
        );
      },
      SERVED_WITHIN_MS,
      'the edited rule in the page',
    );
    timings['contract/ edit → shown in the open page'] = Date.now() - started;
    expect(readdirSync(join(copy, 'contract'))).not.toContain('dist');
  });

  it('serves every save to contract/, in place or renamed over the original as many editors save', async () => {
    const served: Record<string, number[]> = { 'in place': [], 'renamed over the original': [] };
    const saves = [
      ['in place', edit],
      ['renamed over the original', renameSave],
    ] as const;
    // Twice each way: a watch that followed the replaced file would see only the first rename-save.
    for (const round of [1, 2]) {
      for (const [how, save] of saves) {
        await runnersReady();
        const answer = await editRequiredMessage(copy, BASE, `${how} ${round}`, save, SERVED_WITHIN_MS);
        expect(answer.failures).toEqual([]);
        served[how]!.push(answer.ms);
      }
    }
    for (const [how, ms] of Object.entries(served)) timings[`contract/ save ${how} → served by the API`] = ms.join(', ');
  });

  it('restarts the server and the worker on an edit to service-kit/', async () => {
    await runnersReady();
    const since = new Date();
    const [server, worker] = [await follow('server', since), await follow('worker', since)];
    const marker = `kit-${Date.now()}`;
    let started = 0;
    const seen = [server, worker].map((logs) =>
      logs.waitFor(new RegExp(`"edit":"${marker}"`), SERVED_WITHIN_MS).then(() => Date.now() - started),
    );
    started = Date.now();
    editServiceKit(copy, marker);
    timings['service-kit/ edit → server restarted'] = await seen[0]!;
    timings['service-kit/ edit → worker restarted'] = await seen[1]!;
  });

  it('restarts the worker on an edit to worker/, and it computes', async () => {
    await runnersReady();
    const worker = await follow('worker', new Date());
    const marker = `worker-${Date.now()}`;
    const seen = worker.waitFor(new RegExp(`worker started \\(${marker}\\)`), SERVED_WITHIN_MS);
    const started = Date.now();
    editWorker(copy, marker);
    await seen;
    timings['worker/ edit → worker restarted'] = Date.now() - started;
    expect((await get(`${BASE}/api/values`, { method: 'POST', body: '{"index":88}' })).status).toBe(202);
    await eventually(async () => JSON.parse((await get(`${BASE}/api/values/88`)).body).status === 'done', 60_000, 'fib(88)');
  });

  it('shows an edit to client/ in the open page without reloading it (HMR)', async () => {
    await page.evaluate(() => ((window as unknown as { beforeEdit: boolean }).beforeEdit = true));
    let loads = 0;
    page.on('load', () => loads++);
    const marker = `client-${Date.now()}`;
    const started = Date.now();
    editClient(copy, marker);
    await page.getByRole('heading', { level: 1, name: new RegExp(marker) }).waitFor({ timeout: SERVED_WITHIN_MS });
    timings['client/ edit → shown in the open page'] = Date.now() - started;
    expect(loads).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { beforeEdit?: boolean }).beforeEdit)).toBe(true);
  });

  it('starts again in seconds, reusing the installed dependencies', async () => {
    await compose(project, ['stop']);
    const started = Date.now();
    await compose(project, ['up', '-d'], 600_000);
    await eventually(async () => (await fetch(`${BASE}/api/values`)).status === 200, 300_000, 'the dev stack after a restart');
    timings['later up'] = Date.now() - started;
    const install = (await compose(project, ['ps', '-q', 'install'])).trim();
    expect(await docker(['inspect', '-f', '{{.State.ExitCode}}', install])).toBe('0');
    const { stdout, stderr } = await promisify(execFile)('docker', ['logs', '--since', new Date(started).toISOString(), install]);
    expect(stdout + stderr).not.toMatch(/added \d+ packages/);
  });

  it('leaves every file in the checkout owned by its owner', () => {
    // What the stack writes there: Vite's dependency cache, and the volume's mount point (Docker's).
    expect(statSync(join(copy, 'client/node_modules/.vite')).isDirectory()).toBe(true);
    expect(notOwnedBy(copy, owner)).toEqual([]);
  });
});
