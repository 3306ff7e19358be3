import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '@fibstack/devstack/stack';
import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import { loadConfig as loadWorkerConfig } from '../../worker/src/config.js';
import type { PodShape, Sizing } from './model.js';

interface Manifest {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/** The objects of one manifest file. */
function manifestObjects(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(REPO_ROOT, file), 'utf8')).map((document) => document.toJS() as Manifest);
}

/** Cores from a Kubernetes quantity ("200m", "1"). */
const cores = (quantity: string) => (quantity.endsWith('m') ? Number(quantity.slice(0, -1)) / 1000 : Number(quantity));

interface Container {
  name: string;
  env?: Array<{ name: string; value?: string }>;
  resources: { requests: { cpu: string } };
}

/** A Deployment's container and its HPA, from the base manifest that defines both. */
function podShape(file: string, name: 'server' | 'worker'): PodShape & { maxReplicas: number } {
  const objects = manifestObjects(file);
  const deployment = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === name)!;
  const container = (deployment.spec.template as { spec: { containers: Container[] } }).spec.containers.find((one) => one.name === name)!;
  const hpa = objects.find((object) => object.kind === 'HorizontalPodAutoscaler' && object.metadata.name === name)!.spec as {
    minReplicas: number;
    maxReplicas: number;
    metrics: Array<{ resource: { name: string; target: { averageUtilization: number } } }>;
  };
  const env = Object.fromEntries((container.env ?? []).filter((one) => one.value !== undefined).map((one) => [one.name, one.value!]));
  const config = name === 'server' ? loadServerConfig(env) : loadWorkerConfig(env);
  return {
    cpuRequestCores: cores(container.resources.requests.cpu),
    targetUtilization: hpa.metrics.find((metric) => metric.resource.name === 'cpu')!.resource.target.averageUtilization / 100,
    pgPoolMax: config.PG_POOL_MAX,
    minReplicas: hpa.minReplicas,
    maxReplicas: hpa.maxReplicas,
  };
}

const SERVER_MANIFEST = 'k8s/30-server.yaml';
const WORKER_MANIFEST = 'k8s/31-worker.yaml';
const KEDA_SCALED_OBJECT = 'kustomize/components/keda-autoscaling/scaledobject.yaml';

/** The pod shapes of the base manifests and the services' defaults the model counts with. */
export function sizingFromRepository(): Sizing & { maxima: Record<string, { name: 'server' | 'worker'; max: number }> } {
  const server = podShape(SERVER_MANIFEST, 'server');
  const worker = podShape(WORKER_MANIFEST, 'worker');
  const scaledObject = manifestObjects(KEDA_SCALED_OBJECT).find((object) => object.kind === 'ScaledObject')!;
  return {
    server,
    worker,
    maxIndex: loadServerConfig({}).MAX_INDEX,
    retentionDays: loadWorkerConfig({}).RETENTION_DAYS,
    maxima: {
      [`${SERVER_MANIFEST} HPA maxReplicas`]: { name: 'server', max: server.maxReplicas },
      [`${WORKER_MANIFEST} HPA maxReplicas`]: { name: 'worker', max: worker.maxReplicas },
      [`${KEDA_SCALED_OBJECT} maxReplicaCount`]: {
        name: 'worker',
        max: (scaledObject.spec as { maxReplicaCount: number }).maxReplicaCount,
      },
    },
  };
}
