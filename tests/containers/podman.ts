import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { CREATED_BY_HAND, type Container, type PodTemplateSpec } from '../support/k8s-manifests.js';
import { eventually, localImage } from './docker.js';

/**
 * Rendered Kubernetes pod templates started for real with `podman kube play` (no cluster exists here):
 * each template becomes the Pod its controller would create, with its ConfigMaps, the hand-made Secret,
 * claims as podman volumes, emptyDirs, users, read-only root filesystem and sysctls. Pods reach each
 * other by pod name on one podman network, as the manifests' env names the Services.
 */
const run = promisify(execFile);
const PODMAN_SETUP = fileURLToPath(new URL('../../../shared/containers/podman-setup', import.meta.url));

export async function podman(args: string[], timeoutMs = 300_000, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('podman', ['--runtime', 'runc', ...args], {
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  return stdout.trim();
}

/**
 * Copies `images` from Docker's store (where compose builds and provision puts them) into podman's, under
 * the same names. This machine's `podman-setup` also pins podman's limits to the sandbox's; elsewhere
 * (Travis) the images are copied with `docker save | podman load`.
 */
export async function copyImagesToPodman(images: string[]): Promise<void> {
  if (existsSync(PODMAN_SETUP)) {
    await run(PODMAN_SETUP, images, { timeout: 600_000, maxBuffer: 16 * 1024 * 1024 });
    return;
  }
  for (const image of images) {
    await run('sh', ['-c', 'docker save "$1" | podman load -q && podman tag "localhost/$1" "$1" 2>/dev/null || true', 'sh', image], {
      timeout: 600_000,
    });
  }
}

/** Containers may not raise limits above this sandbox's own (as podman-setup configures). */
const HARD_NOFILE = execFileSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim();

/** One play: a kube YAML file and the containers.conf it runs with. */
export interface Play {
  name: string;
  file: string;
  conf: string;
}

/** Where one test keeps its plays (a temporary `dir`) and the podman network its pods share. */
export interface Lab {
  dir: string;
  network: string;
}

/**
 * The Pod a controller would create from `template`. An emptyDir is a fresh world-writable (0777)
 * directory on the node; podman 4.3 makes a root-owned volume of it instead, so each becomes such a
 * directory here.
 */
export function podFromTemplate(
  lab: Lab,
  name: string,
  template: PodTemplateSpec,
  extraVolumes: Array<{ name: string; [type: string]: unknown }> = [],
  restartPolicy?: string,
): KubeObject {
  const volumes = (template.spec.volumes ?? []).map((volume) => {
    if (!('emptyDir' in volume)) return volume;
    const path = join(lab.dir, 'emptydirs', `${name}-${volume.name}`);
    mkdirSync(path, { recursive: true });
    chmodSync(path, 0o777);
    return { name: volume.name, hostPath: { path, type: 'Directory' } };
  });
  // Pinned bases run from their local stand-ins where those are used (localImage).
  const local = (containers?: PodTemplateSpec['spec']['containers']) =>
    containers?.map((container) => ({ ...container, image: localImage(container.image) }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: template.metadata?.labels },
    spec: {
      ...template.spec,
      containers: local(template.spec.containers)!,
      ...(template.spec.initContainers ? { initContainers: local(template.spec.initContainers) } : {}),
      volumes: [...volumes, ...extraVolumes],
      ...(restartPolicy ? { restartPolicy } : {}),
    },
  };
}

/** The Pod of a Deployment's or StatefulSet's one replica, after the PVCs podman makes volumes of. */
export function workloadPod(lab: Lab, workload: KubeObject): KubeObject[] {
  const spec = workload.spec as { template: PodTemplateSpec; volumeClaimTemplates?: Array<{ metadata: { name: string }; spec: object }> };
  const claimName = (claim: { metadata: { name: string } }) => `${claim.metadata.name}-${workload.metadata.name}-0`;
  const claims = (spec.volumeClaimTemplates ?? []).map((claim) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claimName(claim) },
    spec: claim.spec,
  }));
  const claimVolumes = (spec.volumeClaimTemplates ?? []).map((claim) => ({
    name: claim.metadata.name,
    persistentVolumeClaim: { claimName: claimName(claim) },
  }));
  // OnFailure: podman 4.3 would otherwise restart the completed init containers.
  return [...claims, podFromTemplate(lab, workload.metadata.name, spec.template, claimVolumes, 'OnFailure')];
}

/**
 * Writes a play of `objects` (after the ConfigMaps the pod reads). podman 4.3 ignores a pod's sysctls;
 * it applies containers.conf's default_sysctls, so the pod's own go there for its play (net.* sysctls
 * are per network namespace: they reach this pod only).
 */
export function writePlay(lab: Lab, name: string, configMaps: KubeObject[], objects: KubeObject[]): Play {
  const pod = objects.find((object) => object.kind === 'Pod') as
    { spec: { securityContext?: { sysctls?: Array<{ name: string; value: string }> } } } | undefined;
  const sysctls = pod?.spec.securityContext?.sysctls ?? [];
  const file = join(lab.dir, `${name}.yaml`);
  writeFileSync(file, [...configMaps, ...objects].map((object) => stringify(object)).join('---\n'));
  const conf = join(lab.dir, `${name}.containers.conf`);
  writeFileSync(
    conf,
    `[containers]\ndefault_ulimits = ["nofile=${HARD_NOFILE}:${HARD_NOFILE}", "nproc=4096:4096"]\ndefault_sysctls = ${JSON.stringify(sysctls.map(({ name: key, value }) => `${key}=${value}`))}\n`,
  );
  return { name, file, conf };
}

export async function play(lab: Lab, { file, conf }: Play): Promise<void> {
  await podman(['kube', 'play', '--network', lab.network, file], 300_000, { CONTAINERS_CONF: conf });
}

/** Stops and removes a play's pod; its volumes stay, as a deleted pod's claims do. */
export async function down({ name, file }: Play): Promise<void> {
  await podman(['kube', 'down', file]).catch(() => undefined);
  await podman(['pod', 'rm', '-f', name]).catch(() => undefined);
}

/** The network and the hand-made Secret, in the form podman 4.3's secretKeyRef reads: a JSON map of base64 values. */
export async function createNetworkAndSecret(lab: Lab): Promise<void> {
  const secretFile = join(lab.dir, 'secret.json');
  writeFileSync(
    secretFile,
    JSON.stringify(
      Object.fromEntries(
        (['POSTGRES_PASSWORD', 'REDIS_PASSWORD'] as const).map((key) => [
          key,
          Buffer.from(CREATED_BY_HAND.secrets['fibstack-secrets'][key]).toString('base64'),
        ]),
      ),
    ),
  );
  await podman(['network', 'create', lab.network]);
  await podman(['secret', 'create', 'fibstack-secrets', secretFile]);
}

/** Removes the network, the Secret and the named volumes (all this lab's own); absent ones are fine. */
export async function removeNetworkSecretAndVolumes(lab: Lab, volumes: string[]): Promise<void> {
  const present = new Set((await podman(['volume', 'ls', '-q'])).split('\n'));
  const own = volumes.filter((volume) => present.has(volume));
  if (own.length) await podman(['volume', 'rm', '-f', ...own]);
  await podman(['network', 'rm', '-f', lab.network]).catch(() => undefined);
  await podman(['secret', 'rm', 'fibstack-secrets']).catch(() => undefined);
}

export async function podIp(lab: Lab, name: string): Promise<string> {
  const infra = await podman(['pod', 'inspect', name, '--format', '{{.InfraContainerID}}']);
  return podman(['inspect', infra, '--format', `{{(index .NetworkSettings.Networks "${lab.network}").IPAddress}}`]);
}

/**
 * Runs the readinessProbe of the pod's container `container` once, as the kubelet does: its command in the
 * container (ready when it exits 0), or an HTTP GET to the pod's address (ready on 200–399). podman runs
 * no readiness probe itself: kube play turns only a livenessProbe into a healthcheck, and an httpGet one
 * into a curl command, which the Node images do not have.
 */
async function readinessProbe(lab: Lab, pod: string, container: Container): Promise<boolean> {
  const probe = container.readinessProbe;
  if (probe?.exec) {
    await podman(['exec', `${pod}-${container.name}`, ...probe.exec.command]);
    return true;
  }
  if (probe?.httpGet) {
    const { port, path } = probe.httpGet;
    const number = typeof port === 'number' ? port : container.ports?.find((named) => named.name === port)?.containerPort;
    const response = await fetch(`http://${await podIp(lab, pod)}:${number}${path}`, {
      signal: AbortSignal.timeout((probe.timeoutSeconds ?? 1) * 1_000),
    });
    return response.status >= 200 && response.status < 400;
  }
  throw new Error(`${pod}/${container.name}: no exec or httpGet readinessProbe to run`);
}

/** Waits until the workload's pod (named as its workload, main container named alike) passes its readinessProbe. */
export async function waitReady(lab: Lab, name: string, template: PodTemplateSpec, timeoutMs = 120_000): Promise<void> {
  const container = template.spec.containers.find((candidate) => candidate.name === name)!;
  await eventually(() => readinessProbe(lab, name, container), timeoutMs, `${name} ready`);
}

/** The whole output (stdout and stderr) of a container, however it ended. */
export async function logsOf(container: string): Promise<string> {
  const { stdout, stderr } = await run('podman', ['--runtime', 'runc', 'logs', container], { maxBuffer: 16 * 1024 * 1024 });
  return stdout + stderr;
}

/** Plays a run-to-completion pod (a Job's), waits for `container` to exit, removes the pod. */
export async function runToCompletion(
  lab: Lab,
  job: Play,
  container: string,
  timeoutMs = 300_000,
): Promise<{ exitCode: number; logs: string }> {
  await play(lab, job);
  try {
    const exitCode = Number(await podman(['wait', `${job.name}-${container}`], timeoutMs));
    return { exitCode, logs: await logsOf(`${job.name}-${container}`) };
  } finally {
    await down(job);
  }
}
