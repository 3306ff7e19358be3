import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kubernetes-schema.js';

export const K8S_DIR = fileURLToPath(new URL('../../k8s/', import.meta.url));

export interface Manifest {
  file: string;
  object: KubeObject;
}

/** Every object in k8s/ (or a copy of it), in the order `kubectl apply -f k8s` applies them (file name order). */
export function loadManifests(dir = K8S_DIR): Manifest[] {
  return readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
        .map((document) => document.toJS() as KubeObject | null)
        .filter((object): object is KubeObject => object !== null)
        .map((object) => ({ file, object })),
    );
}

export interface PodTemplateSpec {
  metadata?: { labels?: Record<string, string> };
  spec: {
    containers: Container[];
    initContainers?: Container[];
    securityContext?: Record<string, unknown>;
    volumes?: Array<{ name: string; [type: string]: unknown }>;
    automountServiceAccountToken?: boolean;
    terminationGracePeriodSeconds?: number;
    [field: string]: unknown;
  };
}

export interface Probe {
  httpGet?: { port: number | string; path: string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
  timeoutSeconds?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string };
    secretKeyRef?: { name: string; key: string };
    resourceFieldRef?: { containerName?: string; resource: string };
  };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: EnvVar[];
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
}

/** Deployments and StatefulSets: the long-running workloads, whose pod templates the checks read. */
export function workloads(objects: KubeObject[]) {
  return objects
    .filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet')
    .map((object) => {
      const spec = object.spec as { template: PodTemplateSpec; selector: { matchLabels: Record<string, string> } };
      return { object, template: spec.template, selector: spec.selector.matchLabels };
    });
}

/** Every pod template: the workloads' and the CronJobs' (whose pods run to completion). */
export function podTemplates(objects: KubeObject[]) {
  const jobs = objects
    .filter((object) => object.kind === 'CronJob')
    .map((object) => ({
      object,
      template: (object.spec as { jobTemplate: { spec: { template: PodTemplateSpec } } }).jobTemplate.spec.template,
    }));
  return [...workloads(objects).map(({ object, template }) => ({ object, template })), ...jobs];
}

/** Every container of a pod template, init containers included. */
export function containersOf(template: PodTemplateSpec): Container[] {
  return [...template.spec.containers, ...(template.spec.initContainers ?? [])];
}

export function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

/** How the local overlay names the project's images: as `docker-compose build` tags them. */
export const OWN_IMAGE = /^fibstack-(client|server|worker|nginx):local$/;

/**
 * How k8s/ names them: placeholders no node can pull, which `scripts/set-images` (plain `kubectl apply -f
 * k8s`) and the overlays' `images:` (scripts/deploy-eks) replace with a registry and a tag or a digest.
 */
export const IMAGE_PLACEHOLDER = /^YOUR_REGISTRY\/fibstack-(client|server|worker|nginx):COMMIT_SHA$/;

/** Whole cores in a CPU quantity, rounded up, as the kubelet exposes `limits.cpu` through resourceFieldRef. */
export function wholeCores(quantity: string): number {
  return Math.ceil(quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity));
}

/**
 * The environment the kubelet gives `container`: envFrom ConfigMaps, then `env` entries resolved from
 * their ConfigMap key, Secret key (`secrets`, which tests supply) or the container's CPU limit, with
 * `$(NAME)` in a value replaced by a variable defined before it, as the kubelet does.
 */
export function containerEnv(
  container: Container,
  configMaps: Record<string, Record<string, string>>,
  secrets: Record<string, Record<string, string>>,
  siblings: Container[] = [container],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) Object.assign(env, configMaps[source.configMapRef!.name]);
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (value !== undefined)
      env[name] = value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (reference, variable: string) => env[variable] ?? reference);
    else if (valueFrom?.configMapKeyRef) env[name] = configMaps[valueFrom.configMapKeyRef.name]![valueFrom.configMapKeyRef.key]!;
    else if (valueFrom?.secretKeyRef) env[name] = secrets[valueFrom.secretKeyRef.name]![valueFrom.secretKeyRef.key]!;
    else if (valueFrom?.resourceFieldRef?.resource === 'limits.cpu') {
      const target = siblings.find((candidate) => candidate.name === (valueFrom.resourceFieldRef!.containerName ?? container.name));
      env[name] = String(wholeCores(target!.resources!.limits!.cpu!));
    } else throw new Error(`${container.name}: cannot resolve env ${name}`);
  }
  return env;
}

/** Every ConfigMap in `objects`, by name. */
export function configMapsOf(objects: KubeObject[]): Record<string, Record<string, string>> {
  return Object.fromEntries(
    objects.filter((object) => object.kind === 'ConfigMap').map((object) => [object.metadata.name, object.data as Record<string, string>]),
  );
}

/**
 * What an operator creates by hand in the namespace before the first deploy (k8s/README.md), with
 * values for tests: the Secret (REDIS_PASSWORD: the in-cluster Redis's password, or ElastiCache's AUTH
 * token with managed data; BULL_BOARD_PASSWORD only with the bull-board component) and the RDS CA
 * bundle ConfigMap.
 */
export const CREATED_BY_HAND: {
  secrets: Record<string, Record<string, string>> & {
    'fibstack-secrets': { POSTGRES_PASSWORD: string; REDIS_PASSWORD: string; BULL_BOARD_PASSWORD: string };
  };
  configMaps: Record<string, Record<string, string>> & { 'rds-ca-bundle': Record<string, string> };
} = {
  secrets: {
    'fibstack-secrets': {
      POSTGRES_PASSWORD: 'secret-from-cluster',
      REDIS_PASSWORD: '3f9c2a7e4b1d8c6f0a5e9b2d7c4f1a8e',
      BULL_BOARD_PASSWORD: 'operators-only-passphrase',
    },
  },
  configMaps: { 'rds-ca-bundle': { 'global-bundle.pem': '-----BEGIN CERTIFICATE-----' } },
};
