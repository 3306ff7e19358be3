import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  configMapsOf,
  containerEnv,
  deployedImage,
  loadManifests,
  OWN_IMAGE,
  workloads,
  type Container,
  type PodTemplateSpec,
  type Probe,
} from '../k8s/manifests.js';
import { compose, docker, eventually, provisionBaseImages } from './docker.js';

/**
 * Runs the pods that k8s/ describes, for real, on a Docker network: each container with the image (as
 * `kubectl set image` would set it), command, args, environment (ConfigMap, Secret, CPU limit), user,
 * CPU and memory limits, read-only root filesystem, emptyDir and claim volumes (with fsGroup),
 * no-new-privileges and dropped capabilities its manifest gives it, reachable by its Service name and
 * with no init process, as in a pod. Then every startup, readiness and liveness probe and every preStop
 * hook must pass, the app must work, and SIGTERM must stop each app container cleanly within its grace
 * period. What needs a cluster (Services, Ingress, HPA, PDB, NetworkPolicy enforcement, scheduling,
 * PVC provisioning, Pod Security admission) is checked offline in tests/k8s instead.
 */
const NETWORK = 'fibstack-k8s-test';
const PREFIX = 'fibstack-k8s-';
const DOCKER_ID = 'fibstack-k8s';
const TAG = 'pod-test';
const SECRETS = { 'fibstack-secrets': { POSTGRES_PASSWORD: 'k8s-test-secret' } };

const manifests = loadManifests();
const configMaps = configMapsOf(manifests);
const pods = workloads(manifests).map(({ object, template }) => ({
  name: object.metadata.name,
  template,
  claims: ((object.spec as { volumeClaimTemplates?: Array<{ metadata: { name: string } }> }).volumeClaimTemplates ?? []).map(
    (claim) => claim.metadata.name,
  ),
}));
type Pod = (typeof pods)[number];

const imageOf = (container: Container) => deployedImage(container.image, DOCKER_ID, TAG);

/** Kubernetes quantities as Docker flags: 256Mi → 256m, 1Gi → 1g, 500m CPU → 0.5. */
const memoryFlag = (quantity: string) => quantity.replace(/Mi$/, 'm').replace(/Gi$/, 'g');
const cpuFlag = (quantity: string) => String(quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity));

/** `docker run` arguments equivalent to the container's pod spec. */
function runArgs(pod: Pod, container: Container, template: PodTemplateSpec): string[] {
  const security = template.spec.securityContext as { runAsUser: number; runAsGroup: number };
  const context = container.securityContext as { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  const emptyDirs = new Set((template.spec.volumes ?? []).map((volume) => volume.name));
  const mounts = (container.volumeMounts ?? []).flatMap(({ name, mountPath }) =>
    emptyDirs.has(name)
      ? ['--tmpfs', `${mountPath}:uid=${security.runAsUser},gid=${security.runAsGroup}`]
      : ['-v', `${PREFIX}${pod.name}-${name}:${mountPath}`],
  );
  const ports = (container.ports ?? []).flatMap((port) => ['-p', `127.0.0.1::${port.containerPort}`]);
  const siblings = [...template.spec.containers, ...(template.spec.initContainers ?? [])];
  const env = Object.entries(containerEnv(container, configMaps, SECRETS, siblings)).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  const limits = container.resources!.limits!;
  return [
    '--user', `${security.runAsUser}:${security.runAsGroup}`,
    '--cap-drop', 'ALL',
    ...(context.allowPrivilegeEscalation === false ? ['--security-opt', 'no-new-privileges'] : []),
    ...(context.readOnlyRootFilesystem ? ['--read-only'] : []),
    '--memory', memoryFlag(limits.memory!),
    '--cpus', cpuFlag(limits.cpu!),
    '--network', NETWORK,
    '--network-alias', pod.name,
    ...mounts,
    ...ports,
    ...env,
    ...(container.command ? ['--entrypoint', container.command[0]!] : []),
    imageOf(container),
    ...(container.command?.slice(1) ?? []),
    ...(container.args ?? []),
  ];
}

async function probePasses(containerName: string, container: Container, probe: Probe): Promise<boolean> {
  if (probe.exec) {
    await docker(['exec', containerName, ...probe.exec.command]);
    return true;
  }
  const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
  const number = typeof port === 'number' ? port : container.ports!.find((candidate) => candidate.name === port)!.containerPort;
  const published = (await docker(['port', containerName, String(number)])).split('\n')[0]!;
  if (!probe.httpGet) {
    // tcpSocket: the port must accept a connection inside the container's network namespace.
    await docker(['exec', containerName, 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/${number}`]);
    return true;
  }
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  return (await fetch(`http://${published}${probe.httpGet.path}`, { signal: AbortSignal.timeout(timeoutMs) })).ok;
}

/**
 * Kubernetes gives a pod's volumes to its `fsGroup`; Docker has no such setting, so the claim volumes
 * are handed to that group first, as the kubelet would.
 */
async function emulateFsGroup(pod: Pod) {
  const fsGroup = (pod.template.spec.securityContext as { fsGroup?: number }).fsGroup;
  const image = imageOf(pod.template.spec.containers[0]!);
  for (const claim of fsGroup === undefined ? [] : pod.claims) {
    await docker(['run', '--rm', '--user', '0', '--entrypoint', 'sh', '-v', `${PREFIX}${pod.name}-${claim}:/volume`, image, '-c',
      `chgrp -R ${fsGroup} /volume && chmod -R g+rwX /volume && chmod g+s /volume`]);
  }
}

async function cleanUp() {
  const containers = (await docker(['ps', '-aq', '--filter', `name=${PREFIX}`])).split('\n').filter(Boolean);
  if (containers.length) await docker(['rm', '-f', ...containers]);
  const volumes = (await docker(['volume', 'ls', '-q', '--filter', `name=${PREFIX}`])).split('\n').filter(Boolean);
  if (volumes.length) await docker(['volume', 'rm', ...volumes]);
  await docker(['network', 'rm', NETWORK]).catch(() => undefined);
}

const ownImages = [...new Set(pods.flatMap(({ template }) => template.spec.containers.map((container) => container.image)))].filter((image) =>
  OWN_IMAGE.test(image),
);

describe('k8s pod specs, run with Docker', () => {
  beforeAll(async () => {
    await provisionBaseImages();
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build'], 900_000);
    for (const image of ownImages) await docker(['tag', `fibstack-${OWN_IMAGE.exec(image)![1]}:local`, deployedImage(image, DOCKER_ID, TAG)]);
    await cleanUp();
    await docker(['network', 'create', NETWORK]);
  });

  afterAll(async () => {
    await cleanUp();
    await docker(['rmi', ...ownImages.map((image) => deployedImage(image, DOCKER_ID, TAG))]).catch(() => undefined);
  });

  // Stores first, then the apps, as the cluster would settle them.
  const order = ['postgres', 'redis', 'server', 'worker', 'client'];
  it('covers every workload in k8s/', () => {
    expect([...order].sort()).toEqual(pods.map(({ name }) => name).sort());
  });

  it.each(order)('%s starts with its manifest settings and passes its probes and preStop hook', async (name) => {
    const pod = pods.find((candidate) => candidate.name === name)!;
    await emulateFsGroup(pod);
    for (const init of pod.template.spec.initContainers ?? []) {
      await docker(['run', '--rm', '--name', `${PREFIX}${name}-${init.name}`, ...runArgs(pod, init, pod.template)], 120_000);
    }
    for (const container of pod.template.spec.containers) {
      const containerName = `${PREFIX}${name}-${container.name}`;
      await docker(['run', '-d', '--name', containerName, ...runArgs(pod, container, pod.template)]);
      for (const [kind, probe] of [['startup', container.startupProbe], ['readiness', container.readinessProbe], ['liveness', container.livenessProbe]] as const) {
        if (probe) await eventually(() => probePasses(containerName, container, probe), 90_000, `${containerName} ${kind} probe`);
      }
      const preStop = container.lifecycle?.preStop?.exec?.command;
      if (preStop) await docker(['exec', containerName, ...preStop], 30_000);
      expect(Number(await docker(['exec', containerName, 'id', '-u']))).not.toBe(0);
      expect(await docker(['exec', containerName, 'grep', ' / ', '/proc/mounts'])).toMatch(/ ro[, ]/);
    }
  });

  it('the server, wired by the manifests, answers and the worker computes', async () => {
    const published = (await docker(['port', `${PREFIX}server-server`, '5000'])).split('\n')[0]!;
    const base = `http://${published}`;
    const response = await fetch(`${base}/api/values`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ index: 25 }),
    });
    expect(response.status).toBe(202);
    await eventually(async () => (await (await fetch(`${base}/api/values/25`)).json()).value === '75025', 30_000, 'fib(25)');
  });

  it.each(['server', 'worker', 'client'])('%s stops cleanly on SIGTERM within its termination grace period, with no init process', async (name) => {
    const pod = pods.find((candidate) => candidate.name === name)!;
    const grace = pod.template.spec.terminationGracePeriodSeconds!;
    const containerName = `${PREFIX}${name}-${pod.template.spec.containers[0]!.name}`;
    const started = Date.now();
    // docker stop sends the image's STOPSIGNAL (SIGTERM for node, SIGQUIT for nginx), then SIGKILL after the grace period.
    await docker(['stop', '-t', String(grace), containerName], (grace + 30) * 1000);
    const state = JSON.parse(await docker(['inspect', '-f', '{{json .State}}', containerName])) as { ExitCode: number; OOMKilled: boolean };
    expect(Date.now() - started).toBeLessThan(grace * 1000);
    expect(state).toMatchObject({ ExitCode: 0, OOMKilled: false });
  });
});
