import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QUEUE_NAME } from '../../contract/src/jobs.js';
import { queuePrefix } from '../../service-kit/src/redis.js';
import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import { loadConfig as loadWorkerConfig } from '../../worker/src/config.js';
import { validateKubeObject, type KubeObject } from '../support/kubernetes-schema.js';
import {
  configMapsOf,
  containerEnv,
  containersOf,
  CREATED_BY_HAND,
  K8S_DIR,
  loadManifests,
  matches,
  IMAGE_PLACEHOLDER,
  OWN_IMAGE,
  podTemplates,
  wholeCores,
  workloads,
  type Container,
  type Probe,
} from '../support/k8s-manifests.js';
import { deployables, REPO, type Deployable } from '../support/kustomize-render.js';

const all = deployables();

/** Queries over the objects one way of deploying sends to the API server. */
function view({ objects }: Deployable) {
  const byKind = (kind: string) => objects.filter((object) => object.kind === kind);
  const named = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name);
  const configMaps = { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) };
  const deployment = (name: string) =>
    workloads(objects).find(({ object }) => object.kind === 'Deployment' && object.metadata.name === name)!;
  const envOf = (name: string, container = 0) => {
    const { template } = deployment(name);
    return containerEnv(template.spec.containers[container]!, configMaps, CREATED_BY_HAND.secrets, containersOf(template));
  };
  /** The fibstack-config ConfigMap, whatever hash suffix kustomize gave its name. */
  const config = configMapsOf(objects)[Object.keys(configMapsOf(objects)).find((name) => name.startsWith('fibstack-config'))!]!;
  return { objects, byKind, named, configMaps, deployment, envOf, config, workloads: workloads(objects), pods: podTemplates(objects) };
}

describe('the validator itself', () => {
  const valid: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
    },
  };
  const withContainer = (container: object): KubeObject => ({
    ...valid,
    spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [container] } } },
  });

  it('accepts a valid object', async () => {
    expect(await validateKubeObject(valid)).toEqual([]);
  });

  it.each([
    [{ ...valid, apiVersion: 'extensions/v1beta1', kind: 'Ingress' }, /not served by Kubernetes 1.30\+/],
    [{ ...valid, apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress' }, /not served/],
    [{ ...valid, apiVersion: 'autoscaling/v2beta2', kind: 'HorizontalPodAutoscaler' }, /not served/],
    [{ ...valid, apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget' }, /not served/],
    [{ ...valid, apiVersion: 'apps/v1beta2' }, /not served/],
    [{ ...valid, spec: { ...(valid.spec as object), replica: 2 } }, /unknown field spec.replica/],
    [{ ...valid, spec: { ...(valid.spec as object), replicas: 'two' } }, /replicas/],
    [withContainer({ name: 'c', image: 'i:1', readinesProbe: {} }), /unknown field spec.template.spec.containers\[0\].readinesProbe/],
    [withContainer({ image: 'i:1' }), /name/],
    [{ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'w' }, spec: { triggers: [] } }, /scaleTargetRef/],
    [
      {
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ScaledObject',
        metadata: { name: 'w' },
        spec: { scaleTargetRef: { name: 'w' }, triggers: [], minReplicaCount: 'two' },
      },
      /minReplicaCount/,
    ],
    [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'g' }, spec: { listeners: [] } }, /gatewayClassName/],
    [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'r' },
        spec: { rules: [{ backendRefs: [{ name: 'edge', port: 'http' }] }] },
      },
      /port/,
    ],
    [
      {
        apiVersion: 'gateway.k8s.aws/v1',
        kind: 'TargetGroupConfiguration',
        metadata: { name: 't' },
        spec: { defaultConfiguration: { targetType: 'pod' } },
      },
      /targetType must be equal to one of the allowed values/,
    ],
    [
      { apiVersion: 'gateway.k8s.aws/v1', kind: 'LoadBalancerConfiguration', metadata: { name: 'l' }, spec: { schema: 'internet-facing' } },
      /must NOT have additional properties: schema/,
    ],
    [
      { apiVersion: 'gateway.k8s.aws/v1', kind: 'LoadBalancerConfiguration', metadata: { name: 'l' }, spec: { scheme: 'public' } },
      /scheme/,
    ],
    [{ apiVersion: 'gateway.k8s.aws/v1beta2', kind: 'LoadBalancerConfiguration', metadata: { name: 'l' }, spec: {} }, /not a kind of/],
  ])('rejects %#', async (object, reason) => {
    const errors = await validateKubeObject(object);
    expect(errors.join('\n')).toMatch(reason);
  });
});

describe('k8s/ as `kubectl apply -f k8s` reads it', () => {
  const manifests = loadManifests();
  const { byKind, workloads: running } = view(all[0]!);

  it('holds the namespace first, the app, its stores, the edge and the backup; no Ingress, no Secret', () => {
    expect(manifests[0]?.object).toMatchObject({ kind: 'Namespace', metadata: { name: 'fibstack' } });
    expect(running.map(({ object }) => `${object.kind}/${object.metadata.name}`).sort()).toEqual([
      'Deployment/client',
      'Deployment/edge',
      'Deployment/server',
      'Deployment/worker',
      'StatefulSet/postgres',
      'StatefulSet/redis',
    ]);
    expect(byKind('CronJob').map((object) => object.metadata.name)).toEqual(['postgres-backup']);
    expect(byKind('Ingress')).toEqual([]);
    expect(byKind('Secret')).toEqual([]);
  });

  it('every workload has a PodDisruptionBudget: app pods keep one up, single-replica stores let a node drain', () => {
    const budgets = Object.fromEntries(
      byKind('PodDisruptionBudget').map((pdb) => [pdb.metadata.name, pdb.spec as Record<string, unknown>]),
    );
    expect(Object.keys(budgets).sort()).toEqual(['client', 'edge', 'postgres', 'redis', 'server', 'worker']);
    // maxUnavailable 0 would fail every managed node group upgrade (PodEvictionFailure) and block Karpenter.
    for (const store of ['postgres', 'redis'])
      expect(budgets[store]).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    for (const app of ['client', 'edge', 'server', 'worker']) expect(budgets[app]).toMatchObject({ minAvailable: 1 });
  });

  it('10-config.yaml and config.env (the kustomize source) hold the same settings', () => {
    const fromEnvFile = Object.fromEntries(
      readFileSync(`${K8S_DIR}config.env`, 'utf8')
        .split('\n')
        .filter((line) => line.trim() && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect(fromEnvFile).toEqual(configMapsOf(manifests.map(({ object }) => object))['fibstack-config']);
  });

  it('the kustomize base renders the same objects, with the config name hashed', () => {
    const normalise = (objects: KubeObject[]) =>
      JSON.parse(JSON.stringify(objects).replace(/fibstack-config-[a-z0-9]{10}/g, 'fibstack-config')) as KubeObject[];
    const key = (object: KubeObject) => `${object.kind}/${object.metadata.name}`;
    const plain = new Map(normalise(all[0]!.objects).map((object) => [key(object), object]));
    const kustomized = normalise(all[1]!.objects);
    expect(kustomized.map(key).sort()).toEqual([...plain.keys()].sort());
    for (const object of kustomized) expect(object, key(object)).toEqual(plain.get(key(object)));
  });
});

describe.each(all.map((deployable) => [deployable.name, deployable] as const))('%s', (_name, deployable) => {
  const v = view(deployable);
  const { objects, byKind, named, configMaps } = v;

  it("every object passes the Kubernetes OpenAPI schemas (and the CRDs' for Gateway API and KEDA kinds)", async () => {
    const errors = (
      await Promise.all(
        objects.map(async (object) =>
          (await validateKubeObject(object)).map((error) => `${object.kind}/${object.metadata.name}: ${error}`),
        ),
      )
    ).flat();
    expect(errors).toEqual([]);
  });

  it('names every object once per kind, and puts every namespaced object in fibstack', () => {
    const keys = objects.map((object) => `${object.kind}/${object.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    const clusterScoped = ['Namespace', 'StorageClass', 'GatewayClass'];
    expect(
      objects
        .filter((object) => !clusterScoped.includes(object.kind) && object.metadata.namespace !== 'fibstack')
        .map((object) => object.metadata.name),
    ).toEqual([]);
  });

  it('every Service selects one workload and targets a port it exposes; each StatefulSet has a headless Service', () => {
    for (const service of byKind('Service')) {
      const spec = service.spec as { selector: Record<string, string>; ports: Array<{ targetPort: string | number }> };
      const targets = v.workloads.filter(({ template }) => matches(spec.selector, template.metadata?.labels));
      expect(targets, `Service ${service.metadata.name}`).toHaveLength(1);
      const ports = targets[0]!.template.spec.containers.flatMap((container) => container.ports ?? []);
      for (const { targetPort } of spec.ports)
        expect(
          ports.some((port) => port.name === targetPort || port.containerPort === targetPort),
          `${service.metadata.name} → ${targetPort}`,
        ).toBe(true);
    }
    for (const set of byKind('StatefulSet')) {
      const governing = named('Service', (set.spec as { serviceName: string }).serviceName);
      expect(governing?.spec, set.metadata.name).toMatchObject({ clusterIP: 'None' });
    }
  });

  it('every workload selector matches its pods, every probe a port its container exposes', () => {
    for (const { object, template, selector } of v.workloads) {
      expect(matches(selector, template.metadata?.labels), object.metadata.name).toBe(true);
      for (const container of template.spec.containers) {
        for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe] as Array<Probe | undefined>) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (port !== undefined)
            expect(
              (container.ports ?? []).some((p) => p.name === port || p.containerPort === port),
              `${container.name} probe port ${port}`,
            ).toBe(true);
        }
      }
    }
  });

  it('every volume mount names a volume or claim of its pod; every claim a StorageClass that exists, where it names one', () => {
    const classes = byKind('StorageClass').map((object) => object.metadata.name);
    const claimsOf = (object: KubeObject) =>
      (object.spec as { volumeClaimTemplates?: Array<{ metadata: { name: string }; spec: { storageClassName?: string } }> })
        .volumeClaimTemplates ?? [];
    for (const { object, template } of v.pods) {
      const volumes = new Set([
        ...(template.spec.volumes ?? []).map((volume) => volume.name),
        ...claimsOf(object).map((claim) => claim.metadata.name),
      ]);
      for (const container of containersOf(template)) {
        for (const mount of container.volumeMounts ?? [])
          expect(volumes.has(mount.name), `${object.metadata.name}/${container.name} ${mount.name}`).toBe(true);
      }
      for (const volume of template.spec.volumes ?? []) {
        const claim = (volume.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName;
        if (claim) expect(named('PersistentVolumeClaim', claim), `${object.metadata.name} claim ${claim}`).toBeDefined();
      }
    }
    const requested = [
      ...byKind('StatefulSet').flatMap((set) => claimsOf(set).map((claim) => claim.spec.storageClassName)),
      ...byKind('PersistentVolumeClaim').map((claim) => (claim.spec as { storageClassName?: string }).storageClassName),
    ];
    for (const name of requested) if (name !== undefined) expect(classes).toContain(name);
    // A cluster without a default class (EKS) needs every claim to name one.
    if (classes.length) expect(requested.every((name) => name !== undefined)).toBe(true);
  });

  it('every ConfigMap and Secret key referenced exists in the render or among the objects created by hand', () => {
    for (const { object, template } of v.pods) {
      for (const container of containersOf(template)) {
        for (const source of container.envFrom ?? []) expect(configMaps[source.configMapRef!.name], container.name).toBeDefined();
        for (const { name, valueFrom } of container.env ?? []) {
          if (valueFrom?.configMapKeyRef)
            expect(
              Object.keys(configMaps[valueFrom.configMapKeyRef.name] ?? {}),
              `${object.metadata.name}/${container.name} ${name}`,
            ).toContain(valueFrom.configMapKeyRef.key);
          if (valueFrom?.secretKeyRef)
            expect(Object.keys(CREATED_BY_HAND.secrets[valueFrom.secretKeyRef.name as 'fibstack-secrets'] ?? {})).toContain(
              valueFrom.secretKeyRef.key,
            );
        }
      }
      for (const volume of template.spec.volumes ?? []) {
        const configMap = (volume.configMap as { name?: string } | undefined)?.name;
        if (configMap) expect(configMaps[configMap], `${object.metadata.name} volume ${volume.name}`).toBeDefined();
      }
    }
  });

  it('every autoscaler targets an existing Deployment, one per Deployment; every PDB selects one workload', () => {
    const targets = [
      ...byKind('HorizontalPodAutoscaler').map(
        (hpa) => (hpa.spec as { scaleTargetRef: { apiVersion: string; kind: string; name: string } }).scaleTargetRef,
      ),
      ...byKind('ScaledObject').map((scaled) => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        ...(scaled.spec as { scaleTargetRef: { name: string } }).scaleTargetRef,
      })),
    ];
    for (const target of targets) expect(named(target.kind, target.name)?.apiVersion, target.name).toBe(target.apiVersion);
    expect(new Set(targets.map((target) => target.name)).size).toBe(targets.length);
    expect(targets.map((target) => target.name).sort()).toEqual(['server', 'worker']);
    for (const pdb of byKind('PodDisruptionBudget')) {
      const selector = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      expect(
        v.workloads.filter(({ template }) => matches(selector, template.metadata?.labels)),
        pdb.metadata.name,
      ).toHaveLength(1);
    }
    expect(byKind('PodDisruptionBudget').length).toBe(v.workloads.length);
  });

  it('autoscaled Deployments leave replicas to their autoscaler, and app PDBs leave a pod to evict', () => {
    const minimum = (name: string) => {
      const hpa = byKind('HorizontalPodAutoscaler').find(
        (object) => (object.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name,
      );
      const scaled = byKind('ScaledObject').find(
        (object) => (object.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name === name,
      );
      return (
        (hpa?.spec as { minReplicas?: number } | undefined)?.minReplicas ??
        (scaled?.spec as { minReplicaCount?: number } | undefined)?.minReplicaCount
      );
    };
    for (const { object } of v.workloads.filter(({ object }) => object.kind === 'Deployment')) {
      const autoscaled = minimum(object.metadata.name);
      if (autoscaled !== undefined) expect(object.spec, object.metadata.name).not.toHaveProperty('replicas');
      const replicas = autoscaled ?? (object.spec as { replicas: number }).replicas;
      const pdb = named('PodDisruptionBudget', object.metadata.name)!.spec as { minAvailable: number };
      expect(replicas, object.metadata.name).toBeGreaterThan(pdb.minAvailable);
    }
  });

  it('every pod keeps to the restricted Pod Security Standard the namespace enforces, with pinned images', () => {
    expect(named('Namespace', 'fibstack')!.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    const allowedVolumeTypes = [
      'name',
      'emptyDir',
      'configMap',
      'secret',
      'persistentVolumeClaim',
      'projected',
      'downwardAPI',
      'ephemeral',
      'csi',
    ];
    const safeSysctls = [
      'kernel.shm_rmid_forced',
      'net.ipv4.ip_local_port_range',
      'net.ipv4.ip_unprivileged_port_start',
      'net.ipv4.tcp_syncookies',
      'net.ipv4.ping_group_range',
    ];
    for (const { object, template } of v.pods) {
      const pod = template.spec;
      const context = pod.securityContext as {
        runAsNonRoot?: boolean;
        runAsUser?: number;
        seccompProfile?: { type: string };
        sysctls?: Array<{ name: string }>;
      };
      expect(context, object.metadata.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(context.runAsUser, object.metadata.name).toBeGreaterThan(0);
      expect(pod.automountServiceAccountToken, object.metadata.name).toBe(false);
      for (const sysctl of context.sysctls ?? []) expect(safeSysctls, object.metadata.name).toContain(sysctl.name);
      for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pod[field], `${object.metadata.name} ${field}`).toBeFalsy();
      for (const volume of pod.volumes ?? [])
        expect(
          Object.keys(volume).every((key) => allowedVolumeTypes.includes(key)),
          `${object.metadata.name} volume ${volume.name}`,
        ).toBe(true);
      for (const container of containersOf(template)) {
        const name = `${object.metadata.name}/${container.name}`;
        expect(container.image, name).toMatch(/:[\w.-]+$/);
        expect(container.image, name).not.toMatch(/:latest$/);
        expect(container.resources?.requests, name).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.resources?.limits, name).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.securityContext, name).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(container.securityContext, name).not.toHaveProperty('privileged', true);
        expect(container.securityContext, name).not.toHaveProperty('capabilities.add');
        expect(
          (container.ports ?? []).every((port) => !('hostPort' in port)),
          name,
        ).toBe(true);
      }
    }
  });

  it('every pod runs as a ServiceAccount of its own that mounts no token', () => {
    const accounts = new Map<string, string>();
    for (const { object, template } of v.pods) {
      const name = template.spec.serviceAccountName as string | undefined;
      expect(name, object.metadata.name).toBeDefined();
      expect(accounts.get(name!), `${object.metadata.name} shares ${name}`).toBeUndefined();
      accounts.set(name!, object.metadata.name);
      expect(named('ServiceAccount', name!), name).toMatchObject({ automountServiceAccountToken: false });
    }
    expect(
      byKind('ServiceAccount')
        .map((account) => account.metadata.name)
        .sort(),
    ).toEqual([...accounts.keys()].sort());
  });

  it('long-running containers have readiness and liveness probes; app Deployments roll without losing capacity', () => {
    for (const { object, template } of v.workloads) {
      for (const container of template.spec.containers) {
        expect(container.readinessProbe, `${object.metadata.name}/${container.name}`).toBeDefined();
        expect(container.livenessProbe, `${object.metadata.name}/${container.name}`).toBeDefined();
      }
      if (object.kind !== 'Deployment') continue;
      expect((object.spec as { strategy: unknown }).strategy).toEqual({
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
      });
      expect(JSON.stringify(template.spec.topologySpreadConstraints)).toContain('kubernetes.io/hostname');
      if (object.metadata.name !== 'worker') expect(template.spec.containers[0]!.lifecycle?.preStop, object.metadata.name).toBeDefined();
    }
  });

  it('termination grace periods cover the drain: server preStop + SHUTDOWN_TIMEOUT_MS, worker SHUTDOWN_TIMEOUT_MS above its JOB_TIMEOUT_MS', () => {
    const server = v.deployment('server').template;
    const preStop = server.spec.containers[0]!.lifecycle!.preStop!;
    const pauseSeconds = preStop.sleep?.seconds ?? Number(preStop.exec!.command.at(-1));
    expect(server.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(
      pauseSeconds * 1000 + loadServerConfig(v.envOf('server')).SHUTDOWN_TIMEOUT_MS,
    );
    const worker = loadWorkerConfig(v.envOf('worker'));
    expect(v.deployment('worker').template.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(worker.SHUTDOWN_TIMEOUT_MS);
    // A stopping worker waits for the jobs it holds, so it must wait longer than one job may take.
    expect(worker.SHUTDOWN_TIMEOUT_MS).toBeGreaterThan(worker.JOB_TIMEOUT_MS);
  });

  it('the server: readiness /readyz, liveness /healthz, migrations in an init container of the same image', () => {
    const { template } = v.deployment('server');
    const server = template.spec.containers[0]!;
    expect(server.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(server.livenessProbe?.httpGet?.path).toBe('/healthz');
    const [migrate, ...others] = template.spec.initContainers ?? [];
    expect(others).toEqual([]);
    expect(migrate).toMatchObject({ image: server.image, command: ['node', 'dist/migrate.js'] });
  });

  it('gives the server and the worker a configuration their own validation accepts, on the ports their containers expose', () => {
    const serverConfig = loadServerConfig(v.envOf('server'));
    const workerConfig = loadWorkerConfig(v.envOf('worker'));
    expect(v.deployment('server').template.spec.containers[0]!.ports).toEqual([{ name: 'http', containerPort: serverConfig.PORT }]);
    const worker = v.deployment('worker').template.spec.containers[0]!;
    expect(worker.ports).toEqual([{ name: 'health', containerPort: workerConfig.HEALTH_PORT }]);
    expect(workerConfig.COMPUTE_THREADS).toBe(wholeCores(worker.resources!.limits!.cpu!));
    const { template } = v.deployment('server');
    const migrate = containerEnv(template.spec.initContainers![0]!, configMaps, CREATED_BY_HAND.secrets);
    for (const name of ['DATABASE_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'])
      expect(migrate[name], name).toBe(v.envOf('server')[name]);
    const read = new Set([...Object.keys(serverConfig), ...Object.keys(workerConfig)]);
    // OTEL_* are the OpenTelemetry SDK's own variables (service-kit/src/tracing), not the services' config.
    expect(Object.keys(v.config).filter((key) => !read.has(key) && !key.startsWith('OTEL_'))).toEqual([]);
  });

  it('the edge proxies to the client and server Services, on ports they have', () => {
    const env = v.envOf('edge');
    for (const [variable, service] of [
      ['CLIENT_UPSTREAM', 'client'],
      ['SERVER_UPSTREAM', 'server'],
    ] as const) {
      const [host, port] = env[variable]!.split(':');
      expect(host).toBe(service);
      expect((named('Service', service)!.spec as { ports: Array<{ port: number }> }).ports.map((p) => p.port)).toContain(Number(port));
    }
  });

  it('stores, where in the cluster: Redis maxmemory well under its memory limit, Postgres data in a subdirectory of its claim', () => {
    const redis = named('StatefulSet', 'redis');
    const postgres = named('StatefulSet', 'postgres');
    if (!redis || !postgres) return expect(deployable.name).toMatch(/managed-data/);
    const container = (set: KubeObject) => (set.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;
    const args = container(redis).args!.join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
    const maxmemory = /--maxmemory (\d+)mb/.exec(args);
    const limitMi = Number(/^(\d+)Mi$/.exec(container(redis).resources!.limits!.memory!)![1]);
    expect(maxmemory, 'redis --maxmemory').not.toBeNull();
    expect(Number(maxmemory![1]) * 1_000_000).toBeLessThanOrEqual(limitMi * 1024 * 1024 * 0.75);
    const postgresEnv = Object.fromEntries(container(postgres).env!.map((variable) => [variable.name, variable.value]));
    expect([postgresEnv.POSTGRES_USER, postgresEnv.POSTGRES_DB]).toEqual([v.config.PGUSER, v.config.PGDATABASE]);
    const dataMount = container(postgres).volumeMounts!.find((mount) => mount.name === 'data')!.mountPath;
    expect(container(postgres).env!.find((variable) => variable.name === 'PGDATA')?.value).toMatch(new RegExp(`^${dataMount}/\\w+$`));
  });

  it("the project's own images: the registry placeholders scripts/set-images or deploy-eks replace, the compose-built names locally", () => {
    const own = v.pods
      .flatMap(({ template }) => containersOf(template))
      .map((container) => container.image)
      .filter((image) => image.includes('fibstack-'));
    const pattern = deployable.variant?.overlay === 'local' ? OWN_IMAGE : IMAGE_PLACEHOLDER;
    expect(own.length).toBeGreaterThan(0);
    for (const image of own) expect(image).toMatch(pattern);
    for (const { template } of v.pods)
      for (const container of containersOf(template))
        if (!container.image.includes('fibstack-')) expect(container.image).toMatch(/^[a-z0-9]+:\d+(\.\d+)*-bookworm@sha256:[0-9a-f]{64}$/);
  });
});

const find = (name: string) => view(all.find((deployable) => deployable.name === name)!);

describe('overlays/eks', () => {
  const eks = find('overlays/eks');

  it("provisions encrypted gp3 EBS volumes in the pod's zone through the EBS CSI driver, expandable and kept on delete", () => {
    expect(eks.byKind('StorageClass').map((object) => object as unknown as Record<string, unknown>)).toEqual([
      expect.objectContaining({
        provisioner: 'ebs.csi.aws.com',
        parameters: expect.objectContaining({ type: 'gp3', encrypted: 'true' }),
        volumeBindingMode: 'WaitForFirstConsumer',
        allowVolumeExpansion: true,
        reclaimPolicy: 'Retain',
      }),
    ]);
  });

  it('puts the edge behind an internet-facing Network Load Balancer that keeps client addresses', () => {
    const edge = eks.named('Service', 'edge')!;
    expect(edge.spec).toMatchObject({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' });
    expect(edge.metadata.annotations).toMatchObject({
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
      'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'preserve_client_ip.enabled=true',
    });
  });
});

describe('overlays/local', () => {
  const local = find('overlays/local');

  it("leaves the edge's load balancer to the cluster's own implementation, and the claims to its default class", () => {
    const edge = local.named('Service', 'edge')!;
    expect(edge.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
    expect(edge.spec).not.toHaveProperty('loadBalancerClass');
    expect(edge.metadata.annotations ?? {}).toEqual({});
    expect(local.byKind('StorageClass')).toEqual([]);
  });

  it('nlb-tls adds HTTPS on 443 with an ACM certificate, forwarding plain HTTP to the edge, and sends port 80 to its HTTPS redirect', () => {
    const tls = find('eks + nlb-tls');
    const edge = tls.named('Service', 'edge')!;
    expect((edge.spec as { ports: unknown[] }).ports).toEqual([
      { name: 'http', port: 80, targetPort: 'https-redirect' },
      { name: 'https', port: 443, targetPort: 'http' },
    ]);
    // The redirect's port is the one the edge image's template listens on (nginx/templates), open as 80 is.
    const template = readFileSync(join(REPO, 'nginx/templates/default.conf.template'), 'utf8');
    expect(template).toMatch(/server \{\s+listen 8080;\s+return 308 https:\/\/\$host\$request_uri;\s+\}/);
    const pod = (tls.named('Deployment', 'edge')!.spec as { template: { spec: { containers: Array<{ name: string; ports: unknown[] }> } } })
      .template.spec;
    expect(pod.containers.find((container) => container.name === 'edge')!.ports).toContainEqual({
      name: 'https-redirect',
      containerPort: 8080,
    });
    const policy = tls.named('NetworkPolicy', 'edge')!.spec as { ingress: Array<{ ports: unknown[] }> };
    expect(policy.ingress[0]!.ports).toEqual([
      { protocol: 'TCP', port: 80 },
      { protocol: 'TCP', port: 8080 },
    ]);
    expect(edge.metadata.annotations!['service.beta.kubernetes.io/aws-load-balancer-ssl-cert']).toMatch(/^arn:aws:acm:/);
    expect(edge.metadata.annotations!['service.beta.kubernetes.io/aws-load-balancer-ssl-ports']).toBe('443');
  });
});

describe('overlays/eks-managed-data', () => {
  const managed = find('overlays/eks-managed-data');

  it('runs no Postgres, Redis or pg_dump in the cluster', () => {
    expect(managed.byKind('StatefulSet')).toEqual([]);
    expect(managed.byKind('CronJob')).toEqual([]);
    expect(managed.byKind('PersistentVolumeClaim')).toEqual([]);
    expect(
      managed.objects
        .filter((object) => /postgres|redis/.test(object.metadata.name))
        .map((object) => `${object.kind}/${object.metadata.name}`),
    ).toEqual([]);
  });

  it('connects to RDS with verify-full TLS against the mounted RDS CA bundle, and to ElastiCache over rediss://', () => {
    for (const name of ['server', 'worker']) {
      const env = managed.envOf(name);
      const url = new URL(env.DATABASE_URL!);
      expect(url.searchParams.get('sslmode')).toBe('verify-full');
      expect(url.password).toBe('');
      expect(env.PGPASSWORD).toBe(CREATED_BY_HAND.secrets['fibstack-secrets'].POSTGRES_PASSWORD);
      expect(env.REDIS_URL).toMatch(/^rediss:\/\//);
      const { template } = managed.deployment(name);
      const mounts = template.spec.containers[0]!.volumeMounts!;
      const caDir = mounts.find((mount) => mount.name === 'rds-ca')!.mountPath;
      expect(url.searchParams.get('sslrootcert')).toBe(`${caDir}/global-bundle.pem`);
      expect(template.spec.volumes).toContainEqual({ name: 'rds-ca', configMap: { name: 'rds-ca-bundle' } });
      expect(Object.keys(CREATED_BY_HAND.configMaps['rds-ca-bundle'])).toContain('global-bundle.pem');
    }
    expect(managed.deployment('server').template.spec.initContainers![0]!.volumeMounts).toContainEqual({
      name: 'rds-ca',
      mountPath: '/etc/ssl/rds',
      readOnly: true,
    });
  });
});

describe('keda-autoscaling', () => {
  const keda = find('eks + keda-autoscaling');

  it('scales the worker on the BullMQ waiting list and on CPU, in place of its CPU HPA', () => {
    expect(keda.byKind('HorizontalPodAutoscaler').map((object) => object.metadata.name)).toEqual(['server']);
    const [scaled] = keda.byKind('ScaledObject');
    const spec = scaled!.spec as { scaleTargetRef: { name: string }; triggers: Array<{ type: string; metadata: Record<string, string> }> };
    expect(spec.scaleTargetRef.name).toBe('worker');
    const redis = spec.triggers.find((trigger) => trigger.type === 'redis')!;
    expect(redis.metadata.listName).toBe(`${queuePrefix({ REDIS_CLUSTER: false })}:${QUEUE_NAME}:wait`);
    const env = keda.envOf('worker');
    expect([env[redis.metadata.hostFromEnv!], env[redis.metadata.portFromEnv!]]).toEqual(['redis', '6379']);
    expect(spec.triggers.map((trigger) => trigger.type)).toContain('cpu');
  });
});

describe('gateway-api', () => {
  const gateway = find('eks + gateway-api + gateway-api-aws');

  it('routes every path through a Gateway to the edge Service, which stays internal', () => {
    const [route] = gateway.byKind('HTTPRoute');
    const spec = route!.spec as {
      parentRefs: Array<{ name: string }>;
      rules: Array<{ backendRefs: Array<{ name: string; port: number }>; matches: unknown[] }>;
    };
    expect(gateway.named('Gateway', spec.parentRefs[0]!.name)).toBeDefined();
    expect(spec.rules[0]!.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    const backend = spec.rules[0]!.backendRefs[0]!;
    expect(backend.name).toBe('edge');
    const edge = gateway.named('Service', 'edge')!.spec as { type: string; ports: Array<{ port: number }> };
    expect(edge.type).toBe('ClusterIP');
    expect(edge.ports.map((port) => port.port)).toContain(backend.port);
  });
});
