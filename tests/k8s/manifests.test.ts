import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import { loadConfig as loadWorkerConfig } from '../../worker/src/config.js';
import { validateKubeObject, type KubeObject } from './kubernetes-schema.js';
import {
  configMapsOf,
  containerEnv,
  loadManifests,
  matches,
  OWN_IMAGE,
  wholeCores,
  workloads,
  type Container,
  type Probe,
} from './manifests.js';

const manifests = loadManifests();
const objects = manifests.map(({ object }) => object);
const all = workloads(manifests);
const app = all.filter(({ object }) => object.kind === 'Deployment');
const byKind = (kind: string) => objects.filter((object) => object.kind === kind);
const named = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name);
const deployment = (name: string) => app.find(({ object }) => object.metadata.name === name)!;
const configMaps = configMapsOf(manifests);
const config = configMaps['fibstack-config']!;

/** Keys of the one Secret, which is created by hand (README) and never committed. */
const SECRET_KEYS: Record<string, string[]> = { 'fibstack-secrets': ['POSTGRES_PASSWORD'] };
const SECRETS = { 'fibstack-secrets': { POSTGRES_PASSWORD: 'secret-from-cluster' } };

const containersOf = (template: (typeof all)[number]['template']) => [
  ...template.spec.containers,
  ...(template.spec.initContainers ?? []),
];

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
  ])('rejects %#', async (object, reason) => {
    const errors = await validateKubeObject(object as KubeObject);
    expect(errors.join('\n')).toMatch(reason);
  });
});

describe('k8s/ manifests', () => {
  it('hold the objects the app needs, all in the fibstack namespace, namespace first', () => {
    expect(manifests[0]?.object).toMatchObject({ kind: 'Namespace', metadata: { name: 'fibstack' } });
    expect(objects.filter((object) => object.kind !== 'Namespace').every((object) => object.metadata.namespace === 'fibstack')).toBe(true);
    expect(app.map(({ object }) => object.metadata.name).sort()).toEqual(['client', 'server', 'worker']);
    expect(byKind('StatefulSet').map((object) => object.metadata.name).sort()).toEqual(['postgres', 'redis']);
    expect(byKind('HorizontalPodAutoscaler').map((object) => object.metadata.name).sort()).toEqual(['server', 'worker']);
    expect(byKind('Ingress')).toHaveLength(1);
    expect(byKind('Secret')).toEqual([]);
  });

  it.each(manifests.map(({ file, object }) => [`${file}: ${object.kind}/${object.metadata.name}`, object]))(
    '%s is valid against the Kubernetes OpenAPI schema',
    async (_name, object) => {
      expect(await validateKubeObject(object as KubeObject)).toEqual([]);
    },
  );

  it('names every object once per kind', () => {
    const keys = objects.map((object) => `${object.kind}/${object.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('references between objects', () => {
  it('every Service selects pods and targets a port they expose', () => {
    for (const service of byKind('Service')) {
      const spec = service.spec as { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string | number }> };
      const targets = all.filter(({ template }) => matches(spec.selector, template.metadata?.labels));
      expect(targets, `Service ${service.metadata.name}`).toHaveLength(1);
      const ports = targets[0]!.template.spec.containers.flatMap((container) => container.ports ?? []);
      for (const { targetPort } of spec.ports) {
        expect(ports.some((port) => port.name === targetPort || port.containerPort === targetPort), `${service.metadata.name} → ${targetPort}`).toBe(true);
      }
    }
  });

  it('every StatefulSet has its governing Service', () => {
    for (const set of byKind('StatefulSet')) expect(named('Service', (set.spec as { serviceName: string }).serviceName), set.metadata.name).toBeDefined();
  });

  it('every workload selector matches its own pod labels', () => {
    for (const { object, template, selector } of all) expect(matches(selector, template.metadata?.labels), object.metadata.name).toBe(true);
  });

  it('every probe hits a port its container exposes', () => {
    for (const { template } of all) {
      for (const container of template.spec.containers) {
        for (const probe of [container.readinessProbe, container.livenessProbe, container.startupProbe] as Array<Probe | undefined>) {
          const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
          if (port === undefined) continue;
          const exposed = (container.ports ?? []).some((p) => p.name === port || p.containerPort === port);
          expect(exposed, `${container.name} probe port ${port}`).toBe(true);
        }
      }
    }
  });

  it('every volume mount names a volume or claim of its pod', () => {
    for (const { object, template } of all) {
      const claims = ((object.spec as { volumeClaimTemplates?: Array<{ metadata: { name: string } }> }).volumeClaimTemplates ?? []).map((claim) => claim.metadata.name);
      const volumes = new Set([...(template.spec.volumes ?? []).map((volume) => volume.name), ...claims]);
      for (const container of containersOf(template)) {
        for (const mount of container.volumeMounts ?? []) expect(volumes.has(mount.name), `${object.metadata.name}/${container.name} ${mount.name}`).toBe(true);
      }
    }
  });

  it('the Ingress sends / to the client and /api to the server, on ports their Services have', () => {
    const ingress = byKind('Ingress')[0]!;
    const spec = ingress.spec as {
      ingressClassName: string;
      rules: Array<{ http: { paths: Array<{ path: string; pathType: string; backend: { service: { name: string; port: { number: number } } } }> } }>;
    };
    expect(spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/proxy-buffering': 'off',
      'nginx.ingress.kubernetes.io/proxy-read-timeout': expect.stringMatching(/^\d+$/),
      'nginx.ingress.kubernetes.io/proxy-body-size': expect.any(String),
    });
    const paths = spec.rules[0]!.http.paths;
    expect(paths.every((path) => path.pathType === 'Prefix')).toBe(true);
    const routes = Object.fromEntries(paths.map(({ path, backend }) => [path, backend.service]));
    expect(routes['/']?.name).toBe('client');
    expect(routes['/api']?.name).toBe('server');
    for (const backend of Object.values(routes)) {
      const service = named('Service', backend.name)?.spec as { ports: Array<{ port: number }> };
      expect(service.ports.map((port) => port.port)).toContain(backend.port.number);
    }
  });

  it('every ConfigMap and Secret key referenced exists', () => {
    for (const { template } of all) {
      for (const container of containersOf(template)) {
        for (const source of container.envFrom ?? []) expect(configMaps[source.configMapRef!.name], container.name).toBeDefined();
        for (const { valueFrom } of container.env ?? []) {
          if (valueFrom?.configMapKeyRef) expect(Object.keys(configMaps[valueFrom.configMapKeyRef.name]!)).toContain(valueFrom.configMapKeyRef.key);
          if (valueFrom?.secretKeyRef) expect(SECRET_KEYS[valueFrom.secretKeyRef.name]).toContain(valueFrom.secretKeyRef.key);
        }
      }
    }
  });

  it('every HorizontalPodAutoscaler and PodDisruptionBudget targets an existing workload', () => {
    for (const hpa of byKind('HorizontalPodAutoscaler')) {
      const target = (hpa.spec as { scaleTargetRef: { apiVersion: string; kind: string; name: string } }).scaleTargetRef;
      expect(named(target.kind, target.name)?.apiVersion, hpa.metadata.name).toBe(target.apiVersion);
    }
    for (const pdb of byKind('PodDisruptionBudget')) {
      const selector = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      expect(all.filter(({ template }) => matches(selector, template.metadata?.labels)), pdb.metadata.name).toHaveLength(1);
    }
  });
});

describe('policy', () => {
  const everyContainer = all.flatMap(({ object, template }) =>
    containersOf(template).map((container) => [`${object.metadata.name}/${container.name}`, container, template] as const),
  );

  it.each(everyContainer)('%s: pinned image, resources, restricted security context', (_name, container, template) => {
    expect(container.image).toMatch(/:[\w.-]+$/);
    expect(container.image).not.toMatch(/:latest$/);
    if (container.image.includes('fibstack-')) expect(container.image).toMatch(OWN_IMAGE);
    else expect(container.image).toMatch(/^[a-z0-9]+:\d+(\.\d+)*-bookworm$/);
    expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources?.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.securityContext).not.toHaveProperty('privileged', true);
    expect(container.securityContext).not.toHaveProperty('capabilities.add');
    expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: expect.any(Number), seccompProfile: { type: 'RuntimeDefault' } });
    expect((template.spec.securityContext as { runAsUser: number }).runAsUser).toBeGreaterThan(0);
    expect(template.spec.automountServiceAccountToken).toBe(false);
  });

  it('pods run as the users their images are built for: node 1000, nginx 101', () => {
    const users = Object.fromEntries(app.map(({ object, template }) => [object.metadata.name, (template.spec.securityContext as { runAsUser: number }).runAsUser]));
    expect(users).toEqual({ client: 101, server: 1000, worker: 1000 });
  });

  it('pods keep to the restricted Pod Security Standard the namespace enforces', () => {
    expect(byKind('Namespace')[0]!.metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    const allowedVolumeTypes = ['name', 'emptyDir', 'configMap', 'secret', 'persistentVolumeClaim', 'projected', 'downwardAPI', 'ephemeral'];
    for (const { object, template } of all) {
      for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) expect(template.spec[field], `${object.metadata.name} ${field}`).toBeFalsy();
      for (const volume of template.spec.volumes ?? []) {
        expect(Object.keys(volume).every((key) => allowedVolumeTypes.includes(key)), `${object.metadata.name} volume ${volume.name}`).toBe(true);
      }
      for (const container of containersOf(template)) {
        expect((container.ports ?? []).every((port) => !('hostPort' in port)), container.name).toBe(true);
      }
    }
  });

  it.each(all.map(({ object, template }) => [object.metadata.name, template.spec.containers] as const))(
    '%s: every long-running container has readiness and liveness probes',
    (_name, containers: Container[]) => {
      for (const container of containers) {
        expect(container.readinessProbe, container.name).toBeDefined();
        expect(container.livenessProbe, container.name).toBeDefined();
      }
    },
  );

  it('app Deployments roll without dropping capacity, spread over nodes and drain before stopping', () => {
    for (const { object, template } of app) {
      expect((object.spec as { strategy: unknown }).strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      expect(JSON.stringify(template.spec.topologySpreadConstraints)).toContain('kubernetes.io/hostname');
      if (object.metadata.name !== 'worker') expect(template.spec.containers[0]!.lifecycle?.preStop).toBeDefined();
    }
  });

  it('termination grace periods cover the drain: server preStop + SHUTDOWN_TIMEOUT_MS, worker JOB_TIMEOUT_MS', () => {
    const server = deployment('server').template;
    const preStop = server.spec.containers[0]!.lifecycle!.preStop!;
    const pauseSeconds = preStop.sleep?.seconds ?? Number(preStop.exec!.command.at(-1));
    expect(server.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(pauseSeconds * 1000 + Number(config.SHUTDOWN_TIMEOUT_MS));
    const worker = deployment('worker').template;
    expect(worker.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(Number(config.JOB_TIMEOUT_MS));
  });

  it('replicas of autoscaled Deployments are left to their HPA; every PDB leaves a pod to evict', () => {
    const autoscaled = byKind('HorizontalPodAutoscaler').map((hpa) => hpa.spec as { scaleTargetRef: { name: string }; minReplicas: number });
    for (const { scaleTargetRef, minReplicas } of autoscaled) {
      expect(deployment(scaleTargetRef.name).object.spec, scaleTargetRef.name).not.toHaveProperty('replicas');
      expect(minReplicas).toBeGreaterThanOrEqual(2);
    }
    for (const pdb of byKind('PodDisruptionBudget')) {
      const { minAvailable } = pdb.spec as { minAvailable: number };
      const replicas =
        autoscaled.find((hpa) => hpa.scaleTargetRef.name === pdb.metadata.name)?.minReplicas ??
        (deployment(pdb.metadata.name).object.spec as { replicas: number }).replicas;
      expect(replicas, pdb.metadata.name).toBeGreaterThan(minAvailable);
    }
  });

  it('the server readiness probe is /readyz and liveness /healthz', () => {
    const server = deployment('server').template.spec.containers[0]!;
    expect(server.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(server.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(server.startupProbe?.httpGet?.path).toBe('/healthz');
  });

  it('the server migrates the database in an init container before it starts', () => {
    const [migrate, ...others] = deployment('server').template.spec.initContainers ?? [];
    expect(others).toEqual([]);
    expect(migrate).toMatchObject({ image: deployment('server').template.spec.containers[0]!.image, command: ['node', 'dist/migrate.js'] });
  });

  it('Postgres keeps its data in a subdirectory of its claim and Redis never evicts BullMQ keys', () => {
    const postgres = (named('StatefulSet', 'postgres')!.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;
    const dataMount = postgres.volumeMounts!.find((mount) => mount.name === 'data')!.mountPath;
    expect(postgres.env!.find((variable) => variable.name === 'PGDATA')?.value).toMatch(new RegExp(`^${dataMount}/\\w+$`));
    expect(postgres.readinessProbe?.exec?.command.join(' ')).toContain('pg_isready');
    const redis = (named('StatefulSet', 'redis')!.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers[0]!;
    expect(redis.args?.join(' ')).toContain('--appendonly yes --maxmemory-policy noeviction');
  });

  it('NetworkPolicies deny by default and allow DNS', () => {
    const policies = byKind('NetworkPolicy');
    expect(named('NetworkPolicy', 'default-deny')?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(JSON.stringify(named('NetworkPolicy', 'allow-dns')?.spec)).toContain('"port":53');
    for (const component of ['client', 'server', 'worker', 'postgres', 'redis']) {
      expect(policies.some((policy) => policy.metadata.name === component), component).toBe(true);
    }
  });
});

describe('environment wiring', () => {
  const envOf = (name: string) => {
    const { template } = deployment(name);
    return containerEnv(template.spec.containers[0]!, configMaps, SECRETS, containersOf(template));
  };
  const serverConfig = loadServerConfig(envOf('server'));
  const workerConfig = loadWorkerConfig(envOf('worker'));

  it('gives the server a valid configuration pointing at the in-cluster services, on its container port', () => {
    expect(serverConfig).toMatchObject({ PGHOST: 'postgres', REDIS_HOST: 'redis', PGPASSWORD: 'secret-from-cluster', RATE_LIMIT_ENABLED: true });
    expect(deployment('server').template.spec.containers[0]!.ports).toEqual([{ name: 'http', containerPort: serverConfig.PORT }]);
  });

  it('gives the worker a valid configuration: health port exposed, compute threads = its CPU limit', () => {
    const worker = deployment('worker').template.spec.containers[0]!;
    expect(workerConfig).toMatchObject({ PGHOST: 'postgres', REDIS_HOST: 'redis', JOB_TIMEOUT_MS: 30_000 });
    expect(worker.ports).toEqual([{ name: 'health', containerPort: workerConfig.HEALTH_PORT }]);
    expect(workerConfig.COMPUTE_THREADS).toBe(wholeCores(worker.resources!.limits!.cpu!));
  });

  it('the migrate init container gets the same database settings as the server', () => {
    const { template } = deployment('server');
    const migrate = containerEnv(template.spec.initContainers![0]!, configMaps, SECRETS);
    for (const name of ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE']) expect(migrate[name], name).toBe(envOf('server')[name]);
  });

  it('every ConfigMap key is a setting the server or the worker reads (no typos, nothing stale)', () => {
    const read = new Set([...Object.keys(serverConfig), ...Object.keys(workerConfig)]);
    expect(Object.keys(config).filter((key) => !read.has(key))).toEqual([]);
  });

  it('the CI rollout script points every container of every app Deployment at the pushed image', () => {
    const script = readFileSync(fileURLToPath(new URL('../../scripts/deploy-eks', import.meta.url)), 'utf8');
    for (const { object, template } of app) {
      const line = script.split('\n').find((candidate) => candidate.includes(`set image deployment/${object.metadata.name} `));
      expect(line, object.metadata.name).toBeDefined();
      for (const container of containersOf(template)) {
        const service = OWN_IMAGE.exec(container.image)![1];
        expect(line).toContain(`${container.name}="$(image ${service})"`);
      }
    }
  });
});
