import { describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../contract/src/jobs.js';
import { queuePrefix } from '../../service-kit/src/redis.js';
import { configMapsOf, containerEnv, containersOf, CREATED_BY_HAND, workloads } from '../support/k8s-manifests.js';
import { render, type Variant } from '../support/kustomize-render.js';

/**
 * KEDA's redis trigger reads the worker's Redis: its host and port from the worker container's
 * environment (hostFromEnv/portFromEnv; on ElastiCache in cluster mode the redis-cluster trigger's
 * hostsFromEnv/portsFromEnv), its password through a TriggerAuthentication from the Secret, TLS where the
 * Redis is ElastiCache, and the waiting list under the prefix the worker's queue uses. In every overlay.
 */
interface Trigger {
  type: string;
  metadata: Record<string, string>;
  authenticationRef?: { name: string };
}

describe.each<Variant>([
  { overlay: 'base', components: ['keda-autoscaling'] },
  { overlay: 'eks', components: ['keda-autoscaling'] },
  { overlay: 'eks-managed-data', components: ['keda-autoscaling'] },
  { overlay: 'eks-managed-data', components: ['keda-autoscaling', 'elasticache-cluster-mode'] },
])('$components on $overlay', (variant) => {
  const objects = render(variant);
  const configMaps = { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) };
  const worker = workloads(objects).find(({ object }) => object.metadata.name === 'worker')!.template;
  const env = containerEnv(worker.spec.containers[0]!, configMaps, CREATED_BY_HAND.secrets, containersOf(worker));
  const scaled = objects.find((object) => object.kind === 'ScaledObject')!;
  const trigger = (scaled.spec as { triggers: Trigger[] }).triggers.find((candidate) => candidate.type.startsWith('redis'))!;
  const cluster = env.REDIS_CLUSTER === 'true';

  it('every variable the trigger reads from the worker’s environment is there, and names the Redis the worker uses', () => {
    const fromEnv = Object.entries(trigger.metadata).filter(([key]) => key.endsWith('FromEnv'));
    expect(fromEnv.length).toBeGreaterThan(0);
    for (const [key, variable] of fromEnv) expect(env[variable], `${key}: ${variable}`).toBeDefined();
    const url = env.REDIS_URL ? new URL(env.REDIS_URL) : undefined;
    expect(env[trigger.metadata[cluster ? 'hostsFromEnv' : 'hostFromEnv']!]).toBe(url?.hostname ?? env.REDIS_HOST);
  });

  it('asks a cluster as a cluster, for the waiting list under the prefix the worker’s queue uses', () => {
    expect(trigger.type).toBe(cluster ? 'redis-cluster' : 'redis');
    expect(trigger.metadata.listName).toBe(`${queuePrefix({ REDIS_CLUSTER: cluster })}:${QUEUE_NAME}:wait`);
  });

  it('authenticates with the password the worker uses, and speaks TLS exactly when the worker does', () => {
    const auth = objects.find(
      (object) => object.kind === 'TriggerAuthentication' && object.metadata.name === trigger.authenticationRef?.name,
    );
    const refs =
      (auth?.spec as { secretTargetRef?: Array<{ parameter: string; name: string; key: string }> } | undefined)?.secretTargetRef ?? [];
    const password = refs.find((ref) => ref.parameter === 'password');
    expect(password).toBeDefined();
    const secretValue = CREATED_BY_HAND.secrets[password!.name]![password!.key];
    const workerPassword = env.REDIS_URL ? decodeURIComponent(new URL(env.REDIS_URL).password) : env.REDIS_PASSWORD;
    expect(secretValue).toBe(workerPassword);
    const workerTls = env.REDIS_URL?.startsWith('rediss://') ?? false;
    expect(trigger.metadata.enableTLS === 'true').toBe(workerTls);
  });
});
