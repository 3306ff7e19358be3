import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fibstack/devstack/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../support/browser.js';
import { runUserJourney } from '../support/user-journey.js';
import { buildBundle } from '../support/build-eb-bundle.js';
import { submitIndex } from '@fibstack/devstack/testkit';
import { allComputed, compose, docker, eventually, provisionBaseImages, type ComposeProject } from './docker.js';
import { startRegistry, type LocalRegistry } from '../support/local-registry.js';

const TAG = 'bundle-test';
const SERVICES = ['client', 'server', 'worker', 'nginx'];

/**
 * The Elastic Beanstalk bundle, run as EB runs it: the zip's docker-compose.yml alone, with the images CI
 * pushed named by their digests (here: the locally built ones, pushed to a registry on this machine, as CI's
 * push job does) and the password from the environment. EB publishes port 80; here FIBSTACK_PORT moves it to
 * a free port.
 */
describe('EB bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fibstack-eb-'));
  let project: ComposeProject | undefined;
  let registry: LocalRegistry | undefined;
  let base = '';
  const refs: Record<string, string> = {};

  beforeAll(async () => {
    await provisionBaseImages();
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build'], 900_000);
    registry = await startRegistry();
    for (const service of SERVICES) {
      const pushed = `${registry.host}/fibstack-${service}:${TAG}`;
      await docker(['tag', `fibstack-${service}:local`, pushed]);
      await docker(['push', '-q', pushed], 300_000);
      const digests = (await docker(['image', 'inspect', '-f', '{{join .RepoDigests " "}}', pushed])).split(' ');
      refs[service] = digests.find((digest) => digest.startsWith(`${registry!.host}/fibstack-${service}@`))!;
    }
    writeFileSync(join(dir, 'images.json'), JSON.stringify(refs));
    buildBundle(dir, join(dir, 'images.json'));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    project = {
      name: 'fibstack-eb',
      files: ['docker-compose.yml'],
      cwd: dir,
      env: { POSTGRES_PASSWORD: 'eb-test-secret', FIBSTACK_PORT: String(port) },
    };
    await compose(project, ['down', '-v', '--remove-orphans']);
    await compose(project, ['up', '-d'], 600_000);
    await eventually(async () => (await fetch(`${base}/api/values`)).status === 200, 300_000, 'the bundle on its published port');
  });

  afterAll(async () => {
    if (project) await compose(project, ['down', '-v', '--remove-orphans']).catch(() => undefined);
    // The pushed names, by tag and by digest: the images stay, under their fibstack-<service>:local names.
    if (registry) {
      const names = SERVICES.flatMap((service) => [`${registry!.host}/fibstack-${service}:${TAG}`, refs[service]].filter(Boolean));
      await docker(['rmi', ...(names as string[])]).catch(() => undefined);
    }
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs only the images CI pushed, by digest, and builds nothing', async () => {
    const images = (await compose(project!, ['config'])).match(/image: \S+/g)!.map((line) => line.slice(7));
    expect(images.filter((image) => image.startsWith(`${registry!.host}/`)).sort()).toEqual(
      [refs.client, refs.server, refs.server, refs.worker, refs.nginx].sort(),
    );
  });

  it('serves the app and computes values through nginx', async () => {
    expect(await (await fetch(`${base}/values/10`)).text()).toContain('<div id="root">');
    expect(await submitIndex(base, 30)).toBe(202);
    await allComputed(base, [30], 60_000);
    const value = (await (await fetch(`${base}/api/values/30`)).json()) as { value: string };
    expect(value.value).toBe('832040');
  });

  it('passes the browser journey', async () => {
    const browser = await launchChromium();
    try {
      await runUserJourney(await browser.newPage(), base);
    } finally {
      await browser.close();
    }
  });

  it('gives Postgres the password from the environment, and nothing else', async () => {
    // Over the bundle's network, as the services connect (a login inside the container would be trusted).
    const signIn = (password: string) =>
      docker([
        'run',
        '--rm',
        '--network',
        `${project!.name}_default`,
        '-e',
        `PGPASSWORD=${password}`,
        'postgres:17-bookworm',
        'psql',
        '-h',
        'postgres',
        '-U',
        'fibstack',
        '-d',
        'fibstack',
        '-tAc',
        'SELECT 1',
      ]).then(
        (answer) => answer,
        () => 'refused',
      );
    expect(await signIn('eb-test-secret')).toBe('1');
    expect(await signIn('fibstack')).toBe('refused');
  });

  it('asks every Redis client for a password', async () => {
    expect(await compose(project!, ['exec', '-T', 'redis', 'redis-cli', 'ping'])).toContain('NOAUTH Authentication required.');
  });

  it('refuses to start without the Postgres password', async () => {
    await expect(compose({ ...project!, name: 'fibstack-eb-nopass', env: { POSTGRES_PASSWORD: '' } }, ['config'])).rejects.toThrow(
      /POSTGRES_PASSWORD/,
    );
  });
});
