import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadManifests, workloads, type Container, type PodTemplateSpec, type Probe } from '../k8s/manifests.js';
import { compose, docker, eventually, provisionBaseImages } from './docker.js';

/**
 * Runs the pods that k8s/ describes, for real, on a Docker network: each container with the image,
 * command, args, environment (ConfigMap + Secret), user, read-only root filesystem, emptyDir and
 * volume mounts and dropped capabilities its manifest gives it, reachable by its Service name. Then
 * every readiness probe must pass. What needs a cluster (Services, Ingress, HPA, PDB, NetworkPolicy,
 * scheduling, PVC provisioning) is validated offline in tests/k8s instead.
 */
const NETWORK = 'fibstack-k8s-test';
const PREFIX = 'fibstack-k8s-';
const SECRET = { POSTGRES_PASSWORD: 'k8s-test-secret' };

const manifests = loadManifests();
const configMap = manifests.find(({ object }) => object.kind === 'ConfigMap')!.object.data as Record<string, string>;
const pods = workloads(manifests).map(({ object, template }) => ({
  name: object.metadata.name,
  template,
  claims: ((object.spec as { volumeClaimTemplates?: Array<{ metadata: { name: string } }> }).volumeClaimTemplates ?? []).map(
    (claim) => claim.metadata.name,
  ),
}));

function envArgs(container: Container): string[] {
  const env: Record<string, string> = container.envFrom?.length ? { ...configMap } : {};
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    env[variable.name] =
      variable.value ??
      (from?.secretKeyRef ? SECRET[from.secretKeyRef.key as keyof typeof SECRET] : configMap[from!.configMapKeyRef!.key]!);
  }
  return Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
}

/** `docker run` arguments equivalent to the container's pod spec. */
function runArgs(pod: (typeof pods)[number], container: Container, template: PodTemplateSpec): string[] {
  const security = template.spec.securityContext as { runAsUser: number; runAsGroup: number };
  const context = container.securityContext as { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean };
  const emptyDirs = new Set((template.spec.volumes ?? []).map((volume) => volume.name));
  const mounts = (container.volumeMounts ?? []).flatMap(({ name, mountPath }) =>
    emptyDirs.has(name) ? ['--tmpfs', `${mountPath}:uid=${security.runAsUser},gid=${security.runAsGroup}`] : ['-v', `${PREFIX}${pod.name}-${name}:${mountPath}`],
  );
  const ports = (container.ports ?? []).flatMap((port) => ['-p', `127.0.0.1::${port.containerPort}`]);
  return [
    '--user', `${security.runAsUser}:${security.runAsGroup}`,
    '--cap-drop', 'ALL',
    ...(context.allowPrivilegeEscalation === false ? ['--security-opt', 'no-new-privileges'] : []),
    ...(context.readOnlyRootFilesystem ? ['--read-only'] : []),
    '--network', NETWORK,
    '--network-alias', pod.name,
    ...mounts,
    ...ports,
    ...envArgs(container),
    ...(container.command ? ['--entrypoint', container.command[0]!] : []),
    container.image,
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
  if (!probe.httpGet) return true;
  const timeoutMs = ((probe as { timeoutSeconds?: number }).timeoutSeconds ?? 1) * 1000;
  return (await fetch(`http://${published}${probe.httpGet.path}`, { signal: AbortSignal.timeout(timeoutMs) })).ok;
}

/**
 * Kubernetes gives a pod's volumes to its `fsGroup`; Docker has no such setting, so the claim volumes
 * are handed to that group first, as the kubelet would.
 */
async function emulateFsGroup(pod: (typeof pods)[number]) {
  const fsGroup = (pod.template.spec.securityContext as { fsGroup?: number }).fsGroup;
  const image = pod.template.spec.containers[0]!.image;
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

describe('k8s pod specs, run with Docker', () => {
  beforeAll(async () => {
    await provisionBaseImages();
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build'], 900_000);
    for (const { template } of pods) {
      const image = template.spec.containers[0]!.image;
      const own = /\/fibstack-(\w+):/.exec(image);
      if (own) await docker(['tag', `fibstack-${own[1]}:local`, image]);
    }
    await cleanUp();
    await docker(['network', 'create', NETWORK]);
  });

  afterAll(cleanUp);

  // Stores first, then the apps, as the cluster would settle them.
  const order = ['postgres', 'redis', 'server', 'worker', 'client'];
  it.each(order)('%s starts with its manifest settings and passes its readiness probe', async (name) => {
    const pod = pods.find((candidate) => candidate.name === name)!;
    await emulateFsGroup(pod);
    for (const init of pod.template.spec.initContainers ?? []) {
      await docker(['run', '--rm', '--name', `${PREFIX}${name}-${init.name}`, ...runArgs(pod, init, pod.template)], 120_000);
    }
    for (const container of pod.template.spec.containers) {
      const containerName = `${PREFIX}${name}-${container.name}`;
      await docker(['run', '-d', '--name', containerName, ...runArgs(pod, container, pod.template)]);
      await eventually(() => probePasses(containerName, container, container.readinessProbe!), 90_000, `${containerName} readiness`);
      await eventually(() => probePasses(containerName, container, container.livenessProbe!), 30_000, `${containerName} liveness`);
      const user = await docker(['exec', containerName, 'id', '-u']);
      expect(Number(user)).not.toBe(0);
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
});
