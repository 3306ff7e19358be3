import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../k8s/eb-bundle.js';
import { allComputed, compose, docker, eventually, provisionBaseImages, submit, type ComposeProject } from './docker.js';

const DOCKER_ID = 'fibstack-ci';
const TAG = 'bundle-test';
const BASE = 'http://127.0.0.1:80';

/**
 * The Elastic Beanstalk bundle, run as EB runs it: the zip's docker-compose.yml alone, with images
 * named as CI pushes them (here: the locally built ones, tagged with those names) and the password
 * from the environment, answering on port 80.
 */
describe('EB bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fibstack-eb-'));
  let project: ComposeProject;

  beforeAll(async () => {
    await provisionBaseImages();
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build'], 900_000);
    for (const service of ['client', 'server', 'worker', 'nginx']) {
      await docker(['tag', `fibstack-${service}:local`, `${DOCKER_ID}/fibstack-${service}:${TAG}`]);
    }
    buildBundle(dir, DOCKER_ID, TAG);
    project = { name: 'fibstack-eb', files: ['docker-compose.yml'], cwd: dir, env: { POSTGRES_PASSWORD: 'eb-test-secret' } };
    await compose(project, ['up', '-d'], 600_000);
    await eventually(async () => (await fetch(`${BASE}/api/values`)).status === 200, 300_000, 'the bundle on port 80');
  });

  afterAll(async () => {
    if (project) await compose(project, ['down', '-v', '--remove-orphans']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the app and computes values on port 80', async () => {
    expect(await (await fetch(`${BASE}/values/10`)).text()).toContain('<div id="root">');
    expect(await submit(BASE, 30)).toBe(202);
    await allComputed(BASE, [30], 60_000);
    const value = (await (await fetch(`${BASE}/api/values/30`)).json()) as { value: string };
    expect(value.value).toBe('832040');
  });

  it('refuses to start without the Postgres password', async () => {
    await expect(compose({ ...project, name: 'fibstack-eb-nopass', env: { POSTGRES_PASSWORD: '' } }, ['config'])).rejects.toThrow(
      /POSTGRES_PASSWORD/,
    );
  });
});
