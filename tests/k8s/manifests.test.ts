import { describe, expect, it } from 'vitest';
import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import { loadConfig as loadWorkerConfig } from '../../worker/src/config.js';
import { validateKubeObject, type KubeObject } from './kubernetes-schema.js';
import { loadManifests, matches, workloads, type Container, type Probe } from './manifests.js';

const manifests = loadManifests();
const objects = manifests.map(({ object }) => object);
const all = workloads(manifests);
const app = all.filter(({ object }) => object.kind === 'Deployment');
const byKind = (kind: string) => objects.filter((object) => object.kind === kind);
const named = (kind: string, name: string) => objects.find((object) => object.kind === kind && object.metadata.name === name);

/** Keys of the one Secret, which is created by hand (README) and never committed. */
const SECRET_KEYS: Record<string, string[]> = { 'fibstack-secrets': ['POSTGRES_PASSWORD'] };

const containersOf = (template: (typeof all)[number]['template']) => [
  ...template.spec.containers,
  ...(template.spec.initContainers ?? []),
];

describe('the validator itself', () => {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i:1' }] } },
    },
  };

  it('accepts a valid object', async () => {
    expect(await validateKubeObject(deployment)).toEqual([]);
  });

  it.each([
    [{ ...deployment, apiVersion: 'extensions/v1beta1', kind: 'Ingress' }, /not served by Kubernetes 1.30\+/],
    [{ ...deployment, apiVersion: 'autoscaling/v2beta2', kind: 'HorizontalPodAutoscaler' }, /not served/],
    [{ ...deployment, apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget' }, /not served/],
    [{ ...deployment, spec: { ...(deployment.spec as object), replica: 2 } }, /unknown field spec.replica/],
    [{ ...deployment, spec: { ...(deployment.spec as object), replicas: 'two' } }, /replicas/],
    [
      {
        ...deployment,
        spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ image: 'i:1' }] } } },
      },
      /name/,
    ],
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
    expect(byKind('HorizontalPodAutoscaler')).toHaveLength(2);
    expect(byKind('Ingress')).toHaveLength(1);
    expect(byKind('Secret')).toEqual([]);
  });

  it.each(manifests.map(({ file, object }) => [`${file}: ${object.kind}/${object.metadata.name}`, object]))(
    '%s is valid against the Kubernetes OpenAPI schema',
    async (_name, object) => {
      expect(await validateKubeObject(object as KubeObject)).toEqual([]);
    },
  );
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

  it('the Ingress sends / to the client and /api to the server, on ports their Services have', () => {
    const ingress = byKind('Ingress')[0]!;
    const spec = ingress.spec as {
      ingressClassName: string;
      rules: Array<{ http: { paths: Array<{ path: string; backend: { service: { name: string; port: { number: number } } } }> } }>;
    };
    expect(spec.ingressClassName).toBe('nginx');
    expect(ingress.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    const routes = Object.fromEntries(spec.rules[0]!.http.paths.map(({ path, backend }) => [path, backend.service]));
    expect(routes['/']?.name).toBe('client');
    expect(routes['/api']?.name).toBe('server');
    for (const backend of Object.values(routes)) {
      const service = named('Service', backend.name)?.spec as { ports: Array<{ port: number }> };
      expect(service.ports.map((port) => port.port)).toContain(backend.port.number);
    }
  });

  it('every ConfigMap and Secret key referenced exists', () => {
    const configMaps = Object.fromEntries(byKind('ConfigMap').map((map) => [map.metadata.name, Object.keys(map.data as object)]));
    for (const { template } of all) {
      for (const container of containersOf(template)) {
        for (const source of container.envFrom ?? []) expect(configMaps[source.configMapRef!.name], container.name).toBeDefined();
        for (const { valueFrom } of container.env ?? []) {
          if (valueFrom?.configMapKeyRef) expect(configMaps[valueFrom.configMapKeyRef.name]).toContain(valueFrom.configMapKeyRef.key);
          if (valueFrom?.secretKeyRef) expect(SECRET_KEYS[valueFrom.secretKeyRef.name]).toContain(valueFrom.secretKeyRef.key);
        }
      }
    }
  });

  it('every HorizontalPodAutoscaler and PodDisruptionBudget targets an existing workload', () => {
    for (const hpa of byKind('HorizontalPodAutoscaler')) {
      const target = (hpa.spec as { scaleTargetRef: { kind: string; name: string } }).scaleTargetRef;
      expect(named(target.kind, target.name), hpa.metadata.name).toBeDefined();
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
    expect(container.resources?.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources?.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(template.spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(template.spec.automountServiceAccountToken).toBe(false);
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

  it('app Deployments roll without dropping capacity and drain before stopping', () => {
    for (const { object, template } of app) {
      expect((object.spec as { strategy: unknown }).strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      if (object.metadata.name !== 'worker') expect(template.spec.containers[0]!.lifecycle?.preStop).toBeDefined();
    }
    const worker = app.find(({ object }) => object.metadata.name === 'worker')!;
    const jobTimeoutMs = Number((named('ConfigMap', 'fibstack-config')!.data as Record<string, string>).JOB_TIMEOUT_MS);
    expect(worker.template.spec.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(jobTimeoutMs);
  });

  it('the server readiness probe is /readyz and liveness /healthz', () => {
    const server = app.find(({ object }) => object.metadata.name === 'server')!.template.spec.containers[0]!;
    expect(server.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(server.livenessProbe?.httpGet?.path).toBe('/healthz');
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
  function envOf(deployment: string): NodeJS.ProcessEnv {
    const container = app.find(({ object }) => object.metadata.name === deployment)!.template.spec.containers[0]!;
    const configMap = named('ConfigMap', 'fibstack-config')!.data as Record<string, string>;
    const env: NodeJS.ProcessEnv = container.envFrom?.length ? { ...configMap } : {};
    for (const variable of container.env ?? []) {
      env[variable.name] = variable.value ?? (variable.valueFrom?.secretKeyRef ? 'secret-from-cluster' : configMap[variable.valueFrom!.configMapKeyRef!.key]);
    }
    return env;
  }

  it('gives the server a valid configuration pointing at the in-cluster services', () => {
    const config = loadServerConfig(envOf('server'));
    expect(config).toMatchObject({ PORT: 5000, PGHOST: 'postgres', REDIS_HOST: 'redis', PGPASSWORD: 'secret-from-cluster', RATE_LIMIT_ENABLED: true });
  });

  it('gives the worker a valid configuration with its health port exposed', () => {
    const config = loadWorkerConfig(envOf('worker'));
    expect(config).toMatchObject({ PGHOST: 'postgres', REDIS_HOST: 'redis', HEALTH_PORT: 9090, JOB_TIMEOUT_MS: 30_000 });
  });
});
