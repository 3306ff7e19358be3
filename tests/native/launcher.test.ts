import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { copyOfRepository, launch, processesIn, type Launched } from '../support/checkout.js';
import { eventually } from '@fibstack/devstack/testkit';
import { editClient, editContract, editServer, editServiceKit, editWorker, get, runnerReady } from '../support/developer-edits.js';

/** Edits are measured against this bound: generous for a loaded CI machine (bench/README.md and scripts/README.md have the numbers). */
const SERVED_WITHIN_MS = 30_000;
const timings: Record<string, number> = {};

/** An address of this machine other than 127.0.0.1 (on Linux any 127.x works): a loopback-only listener refuses it. */
function otherAddress(): string {
  const external = Object.values(networkInterfaces())
    .flat()
    .find((address) => address?.family === 'IPv4' && !address.internal);
  return external?.address ?? '127.0.0.2';
}

function refuses(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 3_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(true));
  });
}

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern, 'g'))?.length ?? 0;
}

/** `npm start` and `npm run dev` (README, docs/operations.md, docs/commands.md), from a fresh copy of the repository, as a new user runs them. */
describe('the native launcher (scripts/native/start.mjs)', () => {
  let copy: string;

  beforeAll(() => {
    copy = copyOfRepository('fibstack-native-');
  });

  afterAll(async () => {
    console.log('native dev loop, ms from the edit until served:', timings);
    if (copy) await rm(copy, { recursive: true, force: true });
  });

  it('names the bad value of PORT, before installing anything', async () => {
    const start = launch('npm', ['start'], { cwd: copy, env: { PORT: 'http' } });
    expect((await start.exited).code).toBe(1);
    expect(start.output()).toContain('PORT: must be an integer from 1 to 65535 (got "http")');
    expect(existsSync(`${copy}/node_modules`)).toBe(false);
  });

  describe('npm run dev', () => {
    let dev: Launched;
    let port: number;

    beforeAll(async () => {
      port = await freePort();
      dev = launch('npm', ['run', 'dev'], { cwd: copy, env: { PORT: String(port), LOG_LEVEL: 'info' } });
      await dev.waitFor(/fibstack is up in/, 600_000);
    });

    /** Waits until the server's and the worker's runners have their next process loaded (a developer's pace). */
    async function runnersReady() {
      const linesOf = (service: string) =>
        dev
          .output()
          .split('\n')
          .filter((line) => line.startsWith(`[${service}] `))
          .join('\n');
      await eventually(async () => runnerReady(linesOf('server')) && runnerReady(linesOf('worker')), 60_000, 'the runners');
    }

    afterAll(async () => {
      if (dev?.child.exitCode === null && dev.child.signalCode === null) {
        dev.interrupt();
        await dev.exited;
      }
    });

    it('installs and builds only the launcher itself: the services run from their sources', () => {
      expect(dev.output()).toMatch(/\[start\] installing dependencies: done in/);
      expect(dev.output()).toMatch(/\[start\] building devstack \(\d\/\d\): done in/);
      expect(dev.output()).not.toMatch(/building (contract|server|worker|client)/);
    });

    it('listens on loopback only: Vite and the API', async () => {
      const apiPort = Number(/"port":(\d+),"host":"127\.0\.0\.1","msg":"API listening"/.exec(dev.output())![1]);
      expect((await get(`http://127.0.0.1:${port}/`)).status).toBe(200);
      expect(await refuses(otherAddress(), port)).toBe(true);
      expect(await refuses(otherAddress(), apiPort)).toBe(true);
    });

    it('serves an edit to server/ with no failed request during the restart', async () => {
      await runnersReady();
      const served = await editServer(copy, `http://127.0.0.1:${port}`, SERVED_WITHIN_MS);
      timings.server = served.ms;
      expect(served.failures).toEqual([]);
    });

    it('serves an edit to contract/ from the API and to the browser, with no failed request', async () => {
      await runnersReady();
      const served = await editContract(copy, `http://127.0.0.1:${port}`, SERVED_WITHIN_MS);
      timings.contract = served.ms;
      expect(served.failures).toEqual([]);
      // Vite serves the contract's source to the page, edited.
      const page = await get(`http://127.0.0.1:${port}/`);
      expect(page.status).toBe(200);
      const module = await get(`http://127.0.0.1:${port}/@fs${copy}/contract/src/values.ts`);
      expect(module.body).toContain('index cannot be negative');
    });

    it('restarts the server and the worker on an edit to service-kit/', async () => {
      await runnersReady();
      const marker = `kit-${Date.now()}`;
      const pattern = new RegExp(`"edit":"${marker}"`);
      const started = Date.now();
      const seen = Promise.all([
        dev.waitFor(new RegExp(`\\[server\\] .*${pattern.source}`), SERVED_WITHIN_MS, true),
        dev.waitFor(new RegExp(`\\[worker\\] .*${pattern.source}`), SERVED_WITHIN_MS, true),
      ]);
      editServiceKit(copy, marker);
      await seen;
      timings['service-kit (server and worker)'] = Date.now() - started;
    });

    it('restarts the worker on an edit to worker/, and it computes', async () => {
      await runnersReady();
      const marker = `worker-${Date.now()}`;
      const started = Date.now();
      const seen = dev.waitFor(new RegExp(`\\[worker\\] .*worker started \\(${marker}\\)`), SERVED_WITHIN_MS, true);
      editWorker(copy, marker);
      await seen;
      timings.worker = Date.now() - started;
      expect((await get(`http://127.0.0.1:${port}/api/values`, { method: 'POST', body: '{"index":77}' })).status).toBe(202);
      await eventually(
        async () => JSON.parse((await get(`http://127.0.0.1:${port}/api/values/77`)).body).status === 'done',
        SERVED_WITHIN_MS,
        'fib(77)',
      );
    });

    it('serves an edit to client/ at once (Vite)', async () => {
      const marker = `client-${Date.now()}`;
      const started = Date.now();
      editClient(copy, marker);
      const page = `http://127.0.0.1:${port}/src/features/values/HomePage.tsx`;
      await eventually(async () => (await get(page)).body.includes(marker), SERVED_WITHIN_MS, 'the edited page module');
      timings.client = Date.now() - started;
    });

    it('stops on Ctrl-C: one signal per service, each stopping cleanly, the database last, nothing left', async () => {
      const before = dev.output().length;
      dev.interrupt();
      await dev.exited;
      const stopping = dev.output().slice(before);
      expect(stopping).toContain('[start] stopped.');
      expect(count(stopping, /\[server\] .*"msg":"shutting down"/)).toBe(1);
      expect(count(stopping, /\[worker\] .*"msg":"shutting down"/)).toBe(1);
      expect(stopping).not.toContain('second signal');
      const serverStopped = stopping.search(/\[server\] .*"msg":"stopped cleanly"/);
      expect(serverStopped).toBeGreaterThan(-1);
      expect(stopping).toMatch(/\[worker\] .*"msg":"stopped cleanly"/);
      expect(stopping.indexOf('received fast shutdown request')).toBeGreaterThan(serverStopped);
      expect(processesIn(copy)).toEqual([]);
    });
  });

  describe('npm start', () => {
    let app: Launched;
    let port: number;

    beforeAll(async () => {
      port = await freePort();
      app = launch('npm', ['start'], { cwd: copy, env: { PORT: String(port) } });
      await app.waitFor(/fibstack is up in/, 900_000);
    });

    afterAll(async () => {
      if (app?.child.exitCode === null && app.child.signalCode === null) {
        app.interrupt();
        await app.exited;
      }
    });

    it('says what it is doing through the first build, workspace by workspace', () => {
      for (const [i, workspace] of ['contract', 'service-kit', 'devstack', 'server', 'worker', 'client'].entries()) {
        expect(app.output()).toContain(`[start] building ${workspace} (${i + 1}/6): done in`);
      }
      expect(app.output().indexOf('building client (6/6): done')).toBeLessThan(app.output().indexOf('fibstack is up'));
    });

    it('serves the built app on loopback only', async () => {
      const page = await get(`http://127.0.0.1:${port}/`);
      expect(page.body).toContain('<div id="root">');
      expect(page.body).not.toContain('/@vite/client');
      expect(await refuses(otherAddress(), port)).toBe(true);
    });

    it("prints the database's URL without its password and keeps it whole in .data/database-url (mode 600), where docs/operations.md's npm run migrate finds the database", async () => {
      const url = readFileSync(`${copy}/.data/database-url`, 'utf8').trim();
      expect(url).toMatch(/^postgres:\/\/[^:]+:[^@]+@127\.0\.0\.1:\d+\/fibstack$/);
      expect(statSync(`${copy}/.data/database-url`).mode & 0o777).toBe(0o600);
      const password = new URL(url).password;
      expect(password).not.toBe('postgres');
      expect(app.output()).toContain(`[start] database: ${url.replace(`:${password}@`, '@')} (with its password in .data/database-url`);
      expect(app.output()).not.toContain(password);
      // As docs/operations.md writes it: DATABASE_URL="$(cat .data/database-url)" npm run migrate
      const migrate = launch('sh', ['-c', 'DATABASE_URL="$(cat .data/database-url)" npm run migrate'], { cwd: copy });
      const { code } = await migrate.exited;
      expect(migrate.output()).toMatch(/"applied":0,"total":\d+,"msg":"database schema is up to date"/);
      expect(code).toBe(0);
    });

    it('refuses a port that something else answers on, and starts nothing', async () => {
      const running = processesIn(copy);
      const second = launch('npm', ['start'], { cwd: copy, env: { PORT: String(port) } });
      expect((await second.exited).code).toBe(1);
      expect(second.output()).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(second.output()).not.toContain('fibstack is up');
      expect(processesIn(copy).sort()).toEqual(running.sort());
    });

    it('stops everything, saying why, when its own server dies', async () => {
      const server = processesIn(copy).find((line) => line.includes('server/dist/main.js'));
      expect(server).toBeDefined();
      process.kill(Number(server!.split(' ')[0]), 'SIGKILL');
      expect((await app.exited).code).toBe(1);
      expect(app.output()).toContain('[start] server exited (SIGKILL); stopping everything.');
      expect(processesIn(copy)).toEqual([]);
      expect(existsSync(`${copy}/.data/database-url`)).toBe(false);
    });
  });
});
