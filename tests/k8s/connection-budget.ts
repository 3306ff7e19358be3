import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import { loadConfig as loadWorkerConfig } from '../../worker/src/config.js';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { configMapsOf, containerEnv, containersOf, CREATED_BY_HAND, type Container } from '../support/k8s-manifests.js';
import { managedDataFacts, type Deployable } from '../support/kustomize-render.js';

/**
 * Postgres connections at the worst moment: a rollout at maximum scale. Every autoscaled workload at
 * its maximum, plus its surge pod, plus the old pods still stopping (the Deployment controller does not
 * count terminating pods against maxSurge), each with a full pool; the backup job's one connection; and
 * a reserve for Postgres' superuser slots (3 by default) and operators (psql, monitoring). It must fit
 * in max_connections.
 */
const RESERVE = 10;

const POOL_READERS: Record<string, (env: Record<string, string>) => { PG_POOL_MAX: number }> = {
  server: loadServerConfig,
  worker: loadWorkerConfig,
};

function maxConnections({ objects, variant }: Deployable): number {
  const postgres = objects.find((object) => object.kind === 'StatefulSet' && object.metadata.name === 'postgres');
  if (!postgres) return Number(managedDataFacts(variant!.overlay)!.POSTGRES_MAX_CONNECTIONS);
  const args = (postgres.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!.args ?? [];
  const setting = args.map((arg, i) => (args[i - 1] === '-c' ? /^max_connections=(\d+)$/.exec(arg)?.[1] : undefined)).find(Boolean);
  return Number(setting ?? 100); // Postgres' own default
}

interface DeploymentSpec {
  replicas?: number;
  minReadySeconds?: number;
  strategy?: { rollingUpdate?: { maxSurge?: number } };
  template: { spec: { containers: Container[]; initContainers?: Container[]; terminationGracePeriodSeconds?: number } };
}

/**
 * The pods of `deployment` that hold connections at once during a rollout at maximum scale: its
 * maximum, the surge, and the old pods still stopping. The controller replaces an old pod only once a
 * new one has been available for minReadySeconds, and an old pod stops within its grace period, so at
 * most ceil(grace / minReadySeconds) of them overlap (all of them without minReadySeconds).
 */
export function podsAtPeak(objects: KubeObject[], deployment: KubeObject) {
  const name = deployment.metadata.name;
  const targeting = (kind: string) =>
    objects.find((object) => object.kind === kind && (object.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name);
  const spec = deployment.spec as DeploymentSpec;
  const maximum =
    (targeting('HorizontalPodAutoscaler')?.spec as { maxReplicas?: number } | undefined)?.maxReplicas ??
    (targeting('ScaledObject')?.spec as { maxReplicaCount?: number } | undefined)?.maxReplicaCount ??
    spec.replicas ??
    1;
  const surge = spec.strategy?.rollingUpdate?.maxSurge ?? 1;
  const grace = spec.template.spec.terminationGracePeriodSeconds ?? 30;
  const terminating = spec.minReadySeconds ? Math.min(maximum, Math.ceil(grace / spec.minReadySeconds)) : maximum;
  return { maximum, surge, terminating, total: maximum + surge + terminating };
}

/** Each consumer of Postgres connections at its peak, and the sum with the reserve. */
export function connectionBudget(deployable: Deployable) {
  const { objects } = deployable;
  const configMaps = { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) };
  const lines: Array<{ who: string; connections: number }> = [];
  for (const deployment of objects.filter((object) => object.kind === 'Deployment')) {
    const read = POOL_READERS[deployment.metadata.name];
    if (!read) continue;
    const template = (deployment.spec as DeploymentSpec).template;
    const main = template.spec.containers[0]!;
    const pool = read(containerEnv(main, configMaps, CREATED_BY_HAND.secrets, containersOf(template))).PG_POOL_MAX;
    const pods = podsAtPeak(objects, deployment);
    lines.push({
      who: `${deployment.metadata.name}: (${pods.maximum} + ${pods.surge} surge + ${pods.terminating} stopping) pods × pool ${pool}`,
      connections: pods.total * pool,
    });
  }
  // pg_dump holds one connection; concurrencyPolicy Forbid keeps it to one job at a time.
  for (const job of objects.filter((object) => object.kind === 'CronJob'))
    lines.push({ who: `${job.metadata.name}: 1 job × 1`, connections: 1 });
  lines.push({ who: 'reserve (superuser slots, operators)', connections: RESERVE });
  return { lines, total: lines.reduce((sum, line) => sum + line.connections, 0), max: maxConnections(deployable) };
}
