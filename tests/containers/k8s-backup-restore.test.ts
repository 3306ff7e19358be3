import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATED_BY_HAND, configMapsOf, containerEnv, workloads, type PodTemplateSpec } from '../support/k8s-manifests.js';
import { parseObjects, render, REPO } from '../support/kustomize-render.js';
import { submitIndex } from '@fibstack/devstack/testkit';
import { baseImages } from '../support/image-references.js';
import { allComputed, compose, localImage, provisionBaseImages } from './docker.js';
import {
  copyImagesToPodman,
  createNetworkAndSecret,
  down,
  play,
  podFromTemplate,
  podIp,
  podman,
  removeNetworkSecretAndVolumes,
  runToCompletion,
  waitReady,
  workloadPod,
  writePlay,
  type Lab,
  type Play,
} from './podman.js';

/**
 * The backup path of k8s/, run for real with `podman kube play` (no cluster exists here): the rendered
 * Postgres, Redis, server (with its migrate init container) and worker pods take submissions through
 * the API and compute them; the `postgres-backup` CronJob's pod (its command, args, env, users and
 * mounts as kustomize renders them) dumps that database onto the `postgres-backups` claim; the
 * database's volume is then lost, a fresh empty Postgres starts, and the pod of
 * k8s/restore/postgres-restore.yaml restores the newest dump into it, following the procedure in
 * k8s/README.md ("Backup and restore"): writers stopped, restore, server started again. The restored
 * rows must equal the originals and the restarted server must serve them. A backup of an unreachable or
 * empty database must fail its Job and leave no dump behind.
 *
 * Postgres version, plainly: the manifests run Postgres 17 and dump it with the same image's pg_dump
 * (the official postgres:17-bookworm carries pg_dump 17). This machine reaches no registry; its
 * stand-in postgres:17-bookworm holds a real 17 server but Debian's pg_dump 15, which refuses to dump
 * a newer server. So this test runs every Postgres container (the database, the backup and the
 * restore) from the postgres:15-bookworm stand-in, whose server and pg_dump are both 15. Commands,
 * env, mounts and users are the manifests'; only the image tag differs. The manifests keep 17, and
 * the first test checks that all three use one image, so pg_dump always matches the server.
 */
const MANIFEST_POSTGRES = baseImages().postgres!;
const STAND_IN_POSTGRES = 'postgres:15-bookworm';

const lab: Lab = { dir: mkdtempSync(join(tmpdir(), 'fibstack-k8s-backup-')), network: 'fibstack-k8s-backup' };
const asRendered = render({ overlay: 'local' });
const [restoreJob] = parseObjects(readFileSync(join(REPO, 'k8s/restore/postgres-restore.yaml'), 'utf8'));

/** `objects` with the manifests' Postgres image replaced by the stand-in this machine can dump with. */
function onThisMachine<T>(objects: T): T {
  return JSON.parse(JSON.stringify(objects).replaceAll(`"image":"${MANIFEST_POSTGRES}"`, `"image":"${STAND_IN_POSTGRES}"`)) as T;
}

const objects = onThisMachine(asRendered);
const configMaps = objects.filter((object) => object.kind === 'ConfigMap');
const workload = (name: string) => workloads(objects).find(({ object }) => object.metadata.name === name)!.object;
const backupTemplate = (
  objects.find((object) => object.kind === 'CronJob' && object.metadata.name === 'postgres-backup')!.spec as {
    jobTemplate: { spec: { template: PodTemplateSpec } };
  }
).jobTemplate.spec.template;
const restoreTemplate = onThisMachine((restoreJob!.spec as { template: PodTemplateSpec }).template);

const STORES = ['postgres', 'redis'];
const APPS = ['server', 'worker'];
const plays: Record<string, Play> = Object.fromEntries(
  [...STORES, ...APPS].map((name) => [name, writePlay(lab, name, configMaps, workloadPod(lab, workload(name)))]),
);
/** The pod template of a workload, whose readinessProbe says when it is ready. */
const templateOf = (name: string) => (workload(name).spec as { template: PodTemplateSpec }).template;
/** One run of a Job's pod, named for what the run is about. */
const jobRun = (name: string, template: PodTemplateSpec) => writePlay(lab, name, configMaps, [podFromTemplate(lab, name, template)]);
const JOB_PODS = ['postgres-backup-live', 'postgres-backup-unreachable', 'postgres-backup-empty', 'postgres-restore'];
const VOLUMES = ['data-postgres-0', 'data-redis-0', 'postgres-backups'];

/** Fibonacci by the definition, as the oracle for the computed values. */
function fibonacci(index: number): string {
  let [a, b] = [0n, 1n];
  for (let i = 0; i < index; i++) [a, b] = [b, a + b];
  return a.toString();
}
// Small and large values (30000 has 6270 digits, stored out of line); 90 is submitted twice.
const INDEXES = [0, 1, 2, 12, 90, 1000, 30000];
const SUBMISSIONS = [...INDEXES, 90];

function psql(sql: string): Promise<string> {
  return podman(['exec', 'postgres-postgres', 'psql', '-h', '127.0.0.1', '-U', 'fibstack', '-d', 'fibstack', '-Atc', sql]);
}

/** Every row of the app's tables (and its indexes), exactly as stored; null while the database has no tables. */
async function databaseContents(): Promise<{
  migrations: unknown[];
  submissions: Array<{ id: number; index: number; submissions: number }>;
  results: Array<{ index: number; value: string }>;
  indexes: string[];
} | null> {
  if (Number(await psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")) === 0) return null;
  return JSON.parse(
    await psql(`SELECT json_build_object(
      'migrations', (SELECT json_agg(m ORDER BY name) FROM schema_migrations m),
      'submissions', (SELECT json_agg(json_build_object('id', last_submission, 'index', index, 'submissions', submissions)
                                      ORDER BY last_submission) FROM submitted_indexes),
      'results', (SELECT json_agg(r ORDER BY index) FROM results r),
      'indexes', (SELECT json_agg(indexdef ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'))`),
  );
}

/** The files on the backups claim, read from the podman volume's directory on this host. */
async function backupFiles(): Promise<string[]> {
  return readdirSync(await podman(['volume', 'inspect', 'postgres-backups', '--format', '{{.Mountpoint}}'])).sort();
}

async function cleanUp() {
  for (const name of [...JOB_PODS, ...APPS, ...STORES]) await podman(['pod', 'rm', '-f', name]).catch(() => undefined);
  await removeNetworkSecretAndVolumes(lab, VOLUMES);
}

describe('k8s backup CronJob and restore Job, rendered pods run with podman kube play', () => {
  let before: Awaited<ReturnType<typeof databaseContents>> = null;
  let dumps: string[] = [];

  beforeAll(async () => {
    await provisionBaseImages([STAND_IN_POSTGRES]);
    // The images of this commit, under the names the base uses (what docker-compose build makes).
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build', 'server', 'worker'], 900_000);
    await copyImagesToPodman(['fibstack-server:local', 'fibstack-worker:local', localImage(baseImages().redis!), STAND_IN_POSTGRES]);
    await cleanUp();
    await createNetworkAndSecret(lab);
  });

  afterAll(async () => {
    await cleanUp();
    rmSync(lab.dir, { recursive: true, force: true });
  });

  it("the manifests dump and restore with the database's own image, and restore into the database the backup dumps", () => {
    const postgresImage = (template: PodTemplateSpec) => template.spec.containers[0]!.image;
    const inManifests = [
      postgresImage(workloads(asRendered).find(({ object }) => object.metadata.name === 'postgres')!.template),
      postgresImage(
        (asRendered.find((object) => object.kind === 'CronJob')!.spec as { jobTemplate: { spec: { template: PodTemplateSpec } } })
          .jobTemplate.spec.template,
      ),
      postgresImage((restoreJob!.spec as { template: PodTemplateSpec }).template),
    ];
    expect(inManifests).toEqual([MANIFEST_POSTGRES, MANIFEST_POSTGRES, MANIFEST_POSTGRES]);
    expect([
      postgresImage((workload('postgres').spec as { template: PodTemplateSpec }).template),
      postgresImage(backupTemplate),
      postgresImage(restoreTemplate),
    ]).toEqual([STAND_IN_POSTGRES, STAND_IN_POSTGRES, STAND_IN_POSTGRES]);

    const target = (template: PodTemplateSpec) => {
      const env = containerEnv(template.spec.containers[0]!, configMapsOf(asRendered), CREATED_BY_HAND.secrets);
      return Object.fromEntries(['PGHOST', 'PGPORT', 'PGUSER', 'PGDATABASE', 'PGPASSWORD'].map((key) => [key, env[key]]));
    };
    expect(target(restoreTemplate)).toEqual(target(backupTemplate));
  });

  it('the backup Job dumps a database holding submissions and their computed values', async () => {
    for (const name of [...STORES, ...APPS]) {
      await play(lab, plays[name]!);
      await waitReady(lab, name, templateOf(name));
    }
    const api = `http://${await podIp(lab, 'server')}:5000`;
    for (const index of SUBMISSIONS) expect([200, 202]).toContain(await submitIndex(api, index));
    await allComputed(api, INDEXES, 120_000);

    before = await databaseContents();
    // One row per index, most recently submitted last: 90 a second time after the others.
    expect(before!.submissions.map(({ index, submissions }) => [index, submissions])).toEqual(
      [...INDEXES.filter((index) => index !== 90), 90].map((index) => [index, index === 90 ? 2 : 1]),
    );
    expect(Object.fromEntries(before!.results.map(({ index, value }) => [index, value]))).toEqual(
      Object.fromEntries(INDEXES.map((index) => [index, fibonacci(index)])),
    );

    const backup = await runToCompletion(lab, jobRun('postgres-backup-live', backupTemplate), 'pg-dump');
    expect(backup.exitCode, backup.logs).toBe(0);
    expect(backup.logs).toMatch(/backup written: \/backups\/fibstack-\d{8}T\d{6}Z\.dump/);
    dumps = await backupFiles();
    expect(dumps).toEqual([expect.stringMatching(/^fibstack-\d{8}T\d{6}Z\.dump$/)]);
  });

  it('a backup of an unreachable database fails its Job and leaves no dump', async () => {
    // The procedure's first step: the writers stop. Then the database and its volume are lost.
    for (const name of [...APPS, 'postgres']) await down(plays[name]!);
    await podman(['volume', 'rm', 'data-postgres-0']);

    const backup = await runToCompletion(lab, jobRun('postgres-backup-unreachable', backupTemplate), 'pg-dump');
    expect(backup.exitCode, backup.logs).not.toBe(0);
    expect(backup.logs).toMatch(/pg_dump: error: connection to server .* failed|could not translate host name "postgres"/);
    expect(await backupFiles()).toEqual(dumps);
  });

  it('a backup of an empty database fails its Job and leaves no dump, so no good dump is rotated out', async () => {
    await play(lab, plays.postgres!);
    await waitReady(lab, 'postgres', templateOf('postgres'));
    expect(await databaseContents()).toBeNull();

    const backup = await runToCompletion(lab, jobRun('postgres-backup-empty', backupTemplate), 'pg-dump');
    expect(backup.exitCode, backup.logs).not.toBe(0);
    expect(backup.logs).toContain('refusing to keep it');
    expect(await backupFiles()).toEqual(dumps);
  });

  it('the restore Job fills the fresh, empty database with the same submissions and values', async () => {
    expect(await databaseContents()).toBeNull();
    const restore = await runToCompletion(lab, jobRun('postgres-restore', restoreTemplate), 'pg-restore');
    expect(restore.exitCode, restore.logs).toBe(0);
    expect(restore.logs).toContain(`restored /backups/${dumps[0]}`);
    expect(await databaseContents()).toEqual(before);
  });

  it('the server started on the restored database serves the values and takes new submissions', async () => {
    await play(lab, plays.server!);
    await waitReady(lab, 'server', templateOf('server'));
    const api = `http://${await podIp(lab, 'server')}:5000`;
    for (const index of INDEXES) {
      const response = await fetch(`${api}/api/values/${index}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { value?: string }).value).toBe(fibonacci(index));
    }
    // A new submission gets the next id: the sequence came back with the rows.
    expect(await submitIndex(api, 12)).toBe(200);
    const after = await databaseContents();
    const lastId = Math.max(...before!.submissions.map(({ id }) => id));
    expect(after!.submissions.slice(0, -1)).toEqual(before!.submissions.filter(({ index }) => index !== 12));
    expect(after!.submissions.at(-1)).toEqual({ id: lastId + 1, index: 12, submissions: 2 });
  });
});
