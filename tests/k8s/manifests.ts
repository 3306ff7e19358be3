import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from './kubernetes-schema.js';

export const K8S_DIR = fileURLToPath(new URL('../../k8s/', import.meta.url));

export interface Manifest {
  file: string;
  object: KubeObject;
}

/** Every object in k8s/, in the order `kubectl apply -f k8s` applies them (file name order). */
export function loadManifests(): Manifest[] {
  return readdirSync(K8S_DIR)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(`${K8S_DIR}${file}`, 'utf8'))
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
    volumes?: Array<{ name: string }>;
    automountServiceAccountToken?: boolean;
    terminationGracePeriodSeconds?: number;
  };
}

export interface Probe {
  httpGet?: { port: number | string; path: string };
  tcpSocket?: { port: number | string };
  exec?: { command: string[] };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Array<{ name?: string; containerPort: number }>;
  env?: Array<{
    name: string;
    value?: string;
    valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } };
  }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  lifecycle?: { preStop?: unknown };
}

/** Deployments and StatefulSets: the workloads whose pod templates the checks read. */
export function workloads(manifests: Manifest[]) {
  return manifests
    .map(({ object }) => object)
    .filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet')
    .map((object) => {
      const spec = object.spec as { template: PodTemplateSpec; selector: { matchLabels: Record<string, string> } };
      return { object, template: spec.template, selector: spec.selector.matchLabels };
    });
}

export function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}
