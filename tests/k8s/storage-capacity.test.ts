import { describe, expect, it } from 'vitest';
import { dumpBytesUpTo } from '@fibstack/service-kit/storage-budget';
import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { configMapsOf, containerEnv, containersOf, CREATED_BY_HAND, type PodTemplateSpec } from '../support/k8s-manifests.js';
import { deployables, type Deployable } from '../support/kustomize-render.js';

/**
 * The disks agree with MAX_INDEX (k8s/README.md, "Capacity rules"): the server's STORAGE_BUDGET_GIB,
 * which its configuration checks MAX_INDEX against, is no more than the Postgres volume claim; and the
 * backup claim holds BACKUP_KEEP compressed dumps of every value up to MAX_INDEX, plus the one being
 * written. With managed data (RDS), the instance's storage is the operator's to size.
 */
const GIB = 1024 ** 3;

function gib(quantity: string): number {
  const match = /^(\d+)(Gi|Ti)$/.exec(quantity);
  if (!match) throw new Error(`a storage request in Gi or Ti, not ${quantity}`);
  return Number(match[1]) * (match[2] === 'Ti' ? 1024 : 1);
}

function templateOf(object: KubeObject): PodTemplateSpec {
  const spec = object.spec as { template?: PodTemplateSpec; jobTemplate?: { spec: { template: PodTemplateSpec } } };
  return spec.template ?? spec.jobTemplate!.spec.template;
}

function envOf(objects: KubeObject[], kind: string, name: string, container: string): Record<string, string> {
  const template = templateOf(objects.find((object) => object.kind === kind && object.metadata.name === name)!);
  const main = template.spec.containers.find((candidate) => candidate.name === container)!;
  return containerEnv(main, { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) }, CREATED_BY_HAND.secrets, containersOf(template));
}

/** What does not fit, in words; empty when the disks agree with MAX_INDEX. */
function capacityProblems({ objects }: Deployable): string[] {
  const postgres = objects.find((object) => object.kind === 'StatefulSet' && object.metadata.name === 'postgres');
  if (!postgres) return [];
  const problems: string[] = [];
  // Throws (naming MAX_INDEX) when MAX_INDEX's values do not fit STORAGE_BUDGET_GIB.
  const server = loadServerConfig(envOf(objects, 'Deployment', 'server', 'server'));
  const claims = (postgres.spec as { volumeClaimTemplates: Array<{ spec: { resources: { requests: { storage: string } } } }> })
    .volumeClaimTemplates;
  const volume = gib(claims[0]!.spec.resources.requests.storage);
  if (server.STORAGE_BUDGET_GIB > volume)
    problems.push(`STORAGE_BUDGET_GIB ${server.STORAGE_BUDGET_GIB} > the ${volume} GiB Postgres volume`);

  const backups = objects.find((object) => object.kind === 'PersistentVolumeClaim' && object.metadata.name === 'postgres-backups');
  if (backups) {
    const keep = Number(envOf(objects, 'CronJob', 'postgres-backup', 'pg-dump').BACKUP_KEEP);
    const needed = ((keep + 1) * dumpBytesUpTo(server.MAX_INDEX)) / GIB;
    const size = gib((backups.spec as { resources: { requests: { storage: string } } }).resources.requests.storage);
    if (needed > size)
      problems.push(`${keep} + 1 dumps up to MAX_INDEX ${server.MAX_INDEX} take ${needed.toFixed(1)} GiB > the ${size} GiB backup volume`);
  }
  return problems;
}

const all = deployables();

describe.each(all.map((deployable) => [deployable.name, deployable] as const))('%s: disks for MAX_INDEX', (_name, deployable) => {
  it('the Postgres volume holds STORAGE_BUDGET_GIB, which holds every value up to MAX_INDEX, and the backup volume its dumps', () => {
    expect(capacityProblems(deployable)).toEqual([]);
  });
});

describe('the capacity check itself', () => {
  const base = all[0]!;
  /** `base` with the server's environment extended by `env` (as a ConfigMap entry would). */
  const withServerEnv = (env: Record<string, string>): Deployable => ({
    ...base,
    objects: base.objects.map((object) => {
      if (object.kind !== 'Deployment' || object.metadata.name !== 'server') return object;
      const copy = structuredClone(object);
      const main = templateOf(copy).spec.containers.find((container) => container.name === 'server')!;
      main.env = [...(main.env ?? []), ...Object.entries(env).map(([name, value]) => ({ name, value }))];
      return copy;
    }),
  });

  it('finds a budget larger than the volume, and a MAX_INDEX whose dumps the backup volume cannot keep', () => {
    expect(capacityProblems(withServerEnv({ STORAGE_BUDGET_GIB: '20' }))).toEqual(['STORAGE_BUDGET_GIB 20 > the 10 GiB Postgres volume']);
    // 200,000 fits the database's 10 GiB (about 4.2 GiB of values), but not seven dumps and a new one.
    expect(capacityProblems(withServerEnv({ MAX_INDEX: '200000' }))).toEqual([
      '7 + 1 dumps up to MAX_INDEX 200000 take 15.3 GiB > the 10 GiB backup volume',
    ]);
    expect(() => capacityProblems(withServerEnv({ MAX_INDEX: '1000000' }))).toThrow(/MAX_INDEX: the values of indexes 0 to 1000000/);
  });
});
