import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWN_IMAGE, workloads } from '../support/k8s-manifests.js';
import { render } from '../support/kustomize-render.js';
import { compose, eventually, localImage, provisionBaseImages } from './docker.js';
import {
  copyImagesToPodman,
  createNetworkAndSecret,
  down,
  play,
  podFromTemplate,
  podIp,
  podman,
  removeNetworkSecretAndVolumes,
  waitReady,
  workloadPod,
  writePlay,
  type Lab,
} from './podman.js';

/**
 * The pods the kustomize base renders, started for real with `podman kube play` (no cluster exists
 * here): Postgres, Redis, the server with its migrate init container, the worker, the client and the
 * edge, each with its image, command, args, env (the hashed ConfigMap, the Secret, the CPU limit),
 * users, read-only root filesystem, emptyDirs, claims and sysctls as rendered. They reach each other by
 * name on one podman network, as the manifests' env names the Services. Then a submission goes in
 * through the edge and its value comes back computed. What only a cluster does (Services, load
 * balancer, HPA, PDB, NetworkPolicy enforcement, scheduling, Pod Security admission) is checked
 * offline in tests/k8s.
 */
const lab: Lab = { dir: mkdtempSync(join(tmpdir(), 'fibstack-k8s-pods-')), network: 'fibstack-k8s-pods' };
const objects = render({ overlay: 'local' });
const ORDER = ['postgres', 'redis', 'server', 'worker', 'client', 'edge'];
const configMaps = objects.filter((object) => object.kind === 'ConfigMap');
const plays = Object.fromEntries(
  ORDER.map((name) => [
    name,
    writePlay(lab, name, configMaps, workloadPod(lab, workloads(objects).find(({ object }) => object.metadata.name === name)!.object)),
  ]),
);

const templateOf = (name: string) => workloads(objects).find(({ object }) => object.metadata.name === name)!.template;
/** A query in the Postgres pod, as its superuser (the pod's POSTGRES_USER). */
const psql = (sql: string) =>
  podman(['exec', 'postgres-postgres', 'psql', '-h', '127.0.0.1', '-U', 'fibstack', '-d', 'fibstack', '-Atc', sql], 30_000, {});
const publicTables = async () =>
  (await psql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"))
    .split(',')
    .filter(Boolean);
/** When a container last started, as podman recorded it. */
const startedAt = async (container: string) =>
  Date.parse(JSON.parse(await podman(['inspect', container, '--format', '{{json .State.StartedAt}}'])) as string);

const ownImages = [
  ...new Set(
    workloads(objects).flatMap(({ template }) =>
      [...template.spec.containers, ...(template.spec.initContainers ?? [])].map((container) => localImage(container.image)),
    ),
  ),
];

async function cleanUp() {
  for (const name of [...ORDER].reverse()) await down(plays[name]!);
  await removeNetworkSecretAndVolumes(lab, ['data-postgres-0', 'data-redis-0']);
}

describe('k8s pods, rendered by kustomize, run with podman kube play', () => {
  let edge = '';

  beforeAll(async () => {
    await provisionBaseImages();
    // The images of this commit, under the names the base uses (what docker-compose build makes).
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build'], 900_000);
    await copyImagesToPodman(ownImages);
    await cleanUp();
    await createNetworkAndSecret(lab);
  });

  afterAll(async () => {
    await cleanUp();
    rmSync(lab.dir, { recursive: true, force: true });
  });

  it("runs the base's own images and official bases, all of them provided", () => {
    expect(ownImages.filter((image) => OWN_IMAGE.test(image)).sort()).toEqual([
      'fibstack-client:local',
      'fibstack-nginx:local',
      'fibstack-server:local',
      'fibstack-worker:local',
    ]);
  });

  it.each(ORDER)('%s starts as rendered and becomes ready', async (name) => {
    await play(lab, plays[name]!);
    await waitReady(lab, name, templateOf(name));
    const container = `${name}-${name}`;
    expect(Number(await podman(['exec', container, 'id', '-u']))).toBeGreaterThan(0);
    expect(await podman(['exec', container, 'grep', ' / ', '/proc/mounts'])).toMatch(/ ro[, ]/);
  });

  it('the migrate init container created the schema before the server started', async () => {
    expect(await publicTables()).toEqual(expect.arrayContaining(['results', 'schema_migrations', 'submitted_indexes']));
    const applied = (await psql("SELECT name || ' ' || (extract(epoch FROM applied_at) * 1000)::bigint FROM schema_migrations")).split(
      '\n',
    );
    expect(applied.length).toBeGreaterThan(0);
    const serverStarted = await startedAt('server-server');
    for (const migration of applied) expect(Number(migration.split(' ')[1]), migration).toBeLessThan(serverStarted);
  });

  it('a submission through the edge is stored, queued and computed by the worker', async () => {
    edge = `http://${await podIp(lab, 'edge')}:80`;
    const response = await fetch(`${edge}/api/values`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ index: 90 }),
    });
    expect(response.status).toBe(202);
    await eventually(
      async () => ((await (await fetch(`${edge}/api/values/90`)).json()) as { value?: string }).value === '2880067194370816120',
      60_000,
      'fib(90) through the edge',
    );
    const page = await fetch(`${edge}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });

  it('the server never migrates: its container alone, on an empty database, creates no table', async () => {
    await down(plays.server!);
    await psql('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
    expect(await publicTables()).toEqual([]);
    // The server's pod as rendered, without its init container: the server's own command, env and image.
    const template = templateOf('server');
    const alone = podFromTemplate(lab, 'server', { ...template, spec: { ...template.spec, initContainers: [] } }, [], 'OnFailure');
    await play(lab, writePlay(lab, 'server', configMaps, [alone]));
    await waitReady(lab, 'server', template);
    expect(await publicTables()).toEqual([]);
  });
});
