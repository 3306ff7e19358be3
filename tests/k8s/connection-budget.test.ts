import { describe, expect, it } from 'vitest';
import { connectionBudget, podsAtPeak } from './connection-budget.js';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { deployables, type Deployable } from '../support/kustomize-render.js';

const all = deployables();

describe.each(all.map((deployable) => [deployable.name, deployable] as const))('%s: Postgres connection budget', (_name, deployable) => {
  it('every pool through a rollout at maximum scale (surge and stopping pods), plus the backup and a reserve, fits in max_connections', () => {
    const { lines, total, max } = connectionBudget(deployable);
    expect(lines.map((line) => line.who).join('\n')).toMatch(/^server: .*\nworker: /);
    expect(total, lines.map((line) => `${line.who} = ${line.connections}`).join('\n')).toBeLessThanOrEqual(max);
  });
});

describe('the budget itself', () => {
  const base = all[0]!;
  /** `base` with the worker's Deployment (or, with `kind`, its HPA) changed by `change`. */
  const withWorker = (change: (spec: Record<string, unknown>) => void, kind = 'Deployment'): Deployable => ({
    ...base,
    objects: base.objects.map((object) => {
      const target =
        kind === 'Deployment'
          ? object.metadata.name === 'worker'
          : (object.spec as { scaleTargetRef?: { name: string } } | undefined)?.scaleTargetRef?.name === 'worker';
      if (object.kind !== kind || !target) return object;
      const copy = structuredClone(object) as KubeObject & { spec: Record<string, unknown> };
      change(copy.spec);
      return copy;
    }),
  });
  const workerLine = (deployable: Deployable) => connectionBudget(deployable).lines.find((line) => line.who.startsWith('worker'))!;
  const before = connectionBudget(base).total;

  // The worker's pods at the peak of a rollout at its maximum (the maximum comes from docs/capacity.md's model).
  const worker = podsAtPeak(
    base.objects,
    base.objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'worker')!,
  );
  const workerPool = 4;

  it('counts a bigger pool against max_connections', () => {
    const bigPool = withWorker((spec) => {
      const env = (spec.template as { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } }).spec.containers[0]!
        .env;
      env.find((variable) => variable.name === 'PG_POOL_MAX')!.value = '20';
    });
    expect(workerLine(base).who).toMatch(
      new RegExp(`^worker: \\(${worker.maximum} \\+ 1 surge \\+ 2 stopping\\) pods × pool ${workerPool}$`),
    );
    // Every one of those worker pods with 16 more connections.
    expect(connectionBudget(bigPool).total - before).toBe((20 - workerPool) * worker.total);
    expect(connectionBudget(bigPool).total).toBeGreaterThan(connectionBudget(bigPool).max);
  });

  it('counts more replicas against max_connections: a higher autoscaler maximum', () => {
    // Just enough more worker pods to pass max_connections.
    const extra = Math.floor((connectionBudget(base).max - before) / workerPool) + 1;
    const moreReplicas = withWorker((spec) => {
      spec.maxReplicas = worker.maximum + extra;
    }, 'HorizontalPodAutoscaler');
    expect(workerLine(moreReplicas).who).toMatch(new RegExp(`^worker: \\(${worker.maximum + extra} \\+ 1 surge \\+ 2 stopping\\)`));
    expect(connectionBudget(moreReplicas).total - before).toBe(extra * workerPool);
    expect(connectionBudget(moreReplicas).total).toBeGreaterThan(connectionBudget(moreReplicas).max);
  });

  it('counts the old pods a rollout leaves stopping: without minReadySeconds every old pod may hold its pool at once', () => {
    const unpaced = withWorker((spec) => {
      delete spec.minReadySeconds;
    });
    expect(workerLine(unpaced).who).toMatch(new RegExp(`^worker: \\(${worker.maximum} \\+ 1 surge \\+ ${worker.maximum} stopping\\)`));
    expect(connectionBudget(unpaced).total - before).toBe((worker.maximum - 2) * workerPool);
    const slowStop = withWorker((spec) => {
      (spec.template as { spec: { terminationGracePeriodSeconds: number } }).spec.terminationGracePeriodSeconds = 120;
    });
    expect(workerLine(slowStop).who).toMatch(/\+ 4 stopping\)/);
  });
});
