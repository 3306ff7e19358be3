import { describe, expect, it } from 'vitest';
import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import { loadConfig as loadWorkerConfig } from '../../worker/src/config.js';
import type { KubeObject } from './kubernetes-schema.js';
import { configMapsOf, containerEnv, containersOf, CREATED_BY_HAND, type Container } from './manifests.js';
import { deployables, managedDataFacts, type Deployable } from './render.js';

/**
 * Postgres connections at the worst moment: every autoscaled workload at its maximum, plus its rollout
 * surge pod, each with a full pool; the backup job's one connection; and a reserve for Postgres'
 * superuser slots (3 by default) and operators (psql, monitoring). It must fit in max_connections.
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

function maxPods(objects: KubeObject[], deployment: KubeObject): number {
  const name = deployment.metadata.name;
  const hpa = objects.find(
    (object) =>
      object.kind === 'HorizontalPodAutoscaler' && (object.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name,
  );
  const scaled = objects.find(
    (object) => object.kind === 'ScaledObject' && (object.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name,
  );
  const spec = deployment.spec as { replicas?: number; strategy?: { rollingUpdate?: { maxSurge?: number } } };
  const replicas =
    (hpa?.spec as { maxReplicas?: number } | undefined)?.maxReplicas ??
    (scaled?.spec as { maxReplicaCount?: number } | undefined)?.maxReplicaCount ??
    spec.replicas ??
    1;
  return replicas + (spec.strategy?.rollingUpdate?.maxSurge ?? 1);
}

/** Each consumer of Postgres connections at its peak, and the sum with the reserve. */
export function connectionBudget(deployable: Deployable) {
  const { objects } = deployable;
  const configMaps = { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) };
  const lines: Array<{ who: string; connections: number }> = [];
  for (const deployment of objects.filter((object) => object.kind === 'Deployment')) {
    const read = POOL_READERS[deployment.metadata.name];
    if (!read) continue;
    const template = (deployment.spec as { template: { spec: { containers: Container[]; initContainers?: Container[] } } }).template;
    const main = template.spec.containers[0]!;
    const pool = read(containerEnv(main, configMaps, CREATED_BY_HAND.secrets, containersOf(template))).PG_POOL_MAX;
    const pods = maxPods(objects, deployment);
    lines.push({ who: `${deployment.metadata.name}: ${pods} pods × pool ${pool}`, connections: pods * pool });
  }
  // pg_dump holds one connection; concurrencyPolicy Forbid keeps it to one job at a time.
  for (const job of objects.filter((object) => object.kind === 'CronJob'))
    lines.push({ who: `${job.metadata.name}: 1 job × 1`, connections: 1 });
  lines.push({ who: 'reserve (superuser slots, operators)', connections: RESERVE });
  return { lines, total: lines.reduce((sum, line) => sum + line.connections, 0), max: maxConnections(deployable) };
}

const all = deployables();

describe.each(all.map((deployable) => [deployable.name, deployable] as const))('%s: Postgres connection budget', (_name, deployable) => {
  it('every pool at maximum scale, plus the backup and a reserve, fits in max_connections', () => {
    const { lines, total, max } = connectionBudget(deployable);
    expect(lines.map((line) => line.who).join('\n')).toMatch(/^server: .*\nworker: /);
    expect(total, lines.map((line) => `${line.who} = ${line.connections}`).join('\n')).toBeLessThanOrEqual(max);
  });
});

describe('the budget itself', () => {
  it('counts a bigger pool or more replicas against max_connections', () => {
    const base = all[0]!;
    const withPool = (pool: string) => ({
      ...base,
      objects: base.objects.map((object) =>
        object.kind === 'Deployment' && object.metadata.name === 'worker'
          ? (JSON.parse(
              JSON.stringify(object).replace(/"name":"PG_POOL_MAX","value":"\d+"/, `"name":"PG_POOL_MAX","value":"${pool}"`),
            ) as KubeObject)
          : object,
      ),
    });
    const before = connectionBudget(base).total;
    expect(connectionBudget(withPool('20')).total - before).toBe((20 - 4) * 9);
    expect(connectionBudget(withPool('20')).total).toBeGreaterThan(connectionBudget(withPool('20')).max);
  });
});
