import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../k8s/kubernetes-schema.js';
import { CREATED_BY_HAND, OWN_IMAGE, workloads, type PodTemplateSpec } from '../k8s/manifests.js';
import { render } from '../k8s/render.js';
import { compose, eventually, provisionBaseImages } from './docker.js';

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
const run = promisify(execFile);
const NETWORK = 'fibstack-k8s-pods';
const PODMAN_SETUP = fileURLToPath(new URL('../../../shared/containers/podman-setup', import.meta.url));

async function podman(args: string[], timeoutMs = 300_000, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('podman', ['--runtime', 'runc', ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ...env } });
  return stdout.trim();
}

const objects = render({ overlay: 'base' });
const ORDER = ['postgres', 'redis', 'server', 'worker', 'client', 'edge'];

/** The Pod a workload's controller would create (one replica), with its claims as PVCs podman makes volumes of. */
function podOf(workload: KubeObject): KubeObject[] {
  const spec = workload.spec as { template: PodTemplateSpec; volumeClaimTemplates?: Array<{ metadata: { name: string }; spec: object }> };
  const claims = (spec.volumeClaimTemplates ?? []).map((claim) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: `${claim.metadata.name}-${workload.metadata.name}-0` },
    spec: claim.spec,
  }));
  // An emptyDir is a fresh world-writable (0777) directory on the node; podman 4.3 makes a root-owned
  // volume of it instead, so each becomes such a directory here.
  const emptyDirs = (spec.template.spec.volumes ?? []).map((volume) => {
    if (!('emptyDir' in volume)) return volume;
    const path = join(dir, 'emptydirs', `${workload.metadata.name}-${volume.name}`);
    mkdirSync(path, { recursive: true });
    chmodSync(path, 0o777);
    return { name: volume.name, hostPath: { path, type: 'Directory' } };
  });
  const volumes = [...emptyDirs, ...(spec.volumeClaimTemplates ?? []).map((claim) => ({ name: claim.metadata.name, persistentVolumeClaim: { claimName: `${claim.metadata.name}-${workload.metadata.name}-0` } }))];
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: workload.metadata.name, labels: spec.template.metadata?.labels },
    // OnFailure: podman 4.3 would otherwise restart the completed init containers.
    spec: { ...spec.template.spec, volumes, restartPolicy: 'OnFailure' },
  };
  return [...claims, pod];
}

const dir = mkdtempSync(join(tmpdir(), 'fibstack-k8s-pods-'));
/** Containers may not raise limits above this sandbox's own (as podman-setup configures). */
const HARD_NOFILE = (await run('bash', ['-c', 'ulimit -Hn'])).stdout.trim();
/** The Secret created by hand, in the form podman 4.3's secretKeyRef reads: a JSON map of base64 values. */
const secretFile = join(dir, 'secret.json');
writeFileSync(secretFile, JSON.stringify({ POSTGRES_PASSWORD: Buffer.from(CREATED_BY_HAND.secrets['fibstack-secrets'].POSTGRES_PASSWORD).toString('base64') }));
const configMaps = objects.filter((object) => object.kind === 'ConfigMap');
const files = Object.fromEntries(
  ORDER.map((name) => {
    const workload = workloads(objects).find(({ object }) => object.metadata.name === name)!.object;
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, [...configMaps, ...podOf(workload)].map((object) => stringify(object)).join('---\n'));
    // podman 4.3 ignores a pod's sysctls; it applies containers.conf's default_sysctls, so the pod's own
    // go there for its play (net.* sysctls are per network namespace: they reach this pod only).
    const sysctls = ((workload.spec as { template: PodTemplateSpec }).template.spec.securityContext as { sysctls?: Array<{ name: string; value: string }> }).sysctls ?? [];
    const conf = join(dir, `${name}.containers.conf`);
    writeFileSync(conf, `[containers]\ndefault_ulimits = ["nofile=${HARD_NOFILE}:${HARD_NOFILE}", "nproc=4096:4096"]\ndefault_sysctls = ${JSON.stringify(sysctls.map(({ name: key, value }) => `${key}=${value}`))}\n`);
    return [name, { file, conf }];
  }),
);

const ownImages = [...new Set(workloads(objects).flatMap(({ template }) => [...template.spec.containers, ...(template.spec.initContainers ?? [])].map((container) => container.image)))];

async function cleanUp() {
  for (const name of [...ORDER].reverse()) await podman(['kube', 'down', files[name]!.file]).catch(() => undefined);
  for (const name of ORDER) await podman(['pod', 'rm', '-f', name]).catch(() => undefined);
  const volumes = (await podman(['volume', 'ls', '-q'])).split('\n').filter((volume) => /^data-(postgres|redis)-0$/.test(volume));
  if (volumes.length) await podman(['volume', 'rm', '-f', ...volumes]);
  await podman(['network', 'rm', '-f', NETWORK]).catch(() => undefined);
  await podman(['secret', 'rm', 'fibstack-secrets']).catch(() => undefined);
}

async function podIp(name: string): Promise<string> {
  const infra = await podman(['pod', 'inspect', name, '--format', '{{.InfraContainerID}}']);
  return podman(['inspect', infra, '--format', `{{(index .NetworkSettings.Networks "${NETWORK}").IPAddress}}`]);
}

describe('k8s pods, rendered by kustomize, run with podman kube play', () => {
  let edge = '';

  beforeAll(async () => {
    await provisionBaseImages();
    // The images of this commit, under the names the base uses (what docker-compose build makes).
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build'], 900_000);
    await run(PODMAN_SETUP, ownImages, { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
    await cleanUp();
    await podman(['network', 'create', NETWORK]);
    await podman(['secret', 'create', 'fibstack-secrets', secretFile]);
  });

  afterAll(async () => {
    await cleanUp();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the base\'s own images and official bases, all of them provided', () => {
    expect(ownImages.filter((image) => OWN_IMAGE.test(image)).sort()).toEqual(['fibstack-client:local', 'fibstack-nginx:local', 'fibstack-server:local', 'fibstack-worker:local']);
  });

  it.each(ORDER)('%s starts as rendered and becomes ready', async (name) => {
    await podman(['kube', 'play', '--network', NETWORK, files[name]!.file], 300_000, { CONTAINERS_CONF: files[name]!.conf });
    const ready: Record<string, string[]> = {
      postgres: ['postgres-postgres', 'pg_isready', '-h', '127.0.0.1', '-U', 'fibstack'],
      redis: ['redis-redis', 'redis-cli', 'ping'],
      server: ['server-server', 'node', '-e', "fetch('http://127.0.0.1:5000/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"],
      worker: ['worker-worker', 'node', '-e', "fetch('http://127.0.0.1:9090/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"],
      client: ['client-client', 'curl', '-fsS', '-o', '/dev/null', 'http://127.0.0.1:8080/'],
      edge: ['edge-edge', 'curl', '-fsS', '-o', '/dev/null', 'http://127.0.0.1:8081/healthz'],
    };
    const [container, ...probe] = ready[name]!;
    await eventually(async () => (await podman(['exec', container!, ...probe]), true), 120_000, `${name} ready`);
    expect(Number(await podman(['exec', container!, 'id', '-u']))).toBeGreaterThan(0);
    expect(await podman(['exec', container!, 'grep', ' / ', '/proc/mounts'])).toMatch(/ ro[, ]/);
  });

  it('the migrate init container created the schema before the server started (the server never migrates)', async () => {
    const tables = await podman(['exec', 'postgres-postgres', 'psql', '-h', '127.0.0.1', '-U', 'fibstack', '-d', 'fibstack', '-Atc', "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'"], 30_000, {});
    expect(tables.split(',')).toEqual(expect.arrayContaining(['results', 'submissions']));
  });

  it('a submission through the edge is stored, queued and computed by the worker', async () => {
    edge = `http://${await podIp('edge')}:80`;
    const response = await fetch(`${edge}/api/values`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ index: 90 }) });
    expect(response.status).toBe(202);
    await eventually(async () => ((await (await fetch(`${edge}/api/values/90`)).json()) as { value?: string }).value === '2880067194370816120', 60_000, 'fib(90) through the edge');
    const page = await fetch(`${edge}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });
});
