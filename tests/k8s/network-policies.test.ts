import { describe, expect, it } from 'vitest';
import type { KubeObject } from './kubernetes-schema.js';
import { configMapsOf, containerEnv, loadManifests, matches, workloads } from './manifests.js';
import { allowed, type Endpoint } from './network-policy.js';

const manifests = loadManifests();
const objects = manifests.map(({ object }) => object);
const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
const configMaps = configMapsOf(manifests);
const secrets = { 'fibstack-secrets': { POSTGRES_PASSWORD: 'x' } };

const namespace = objects.find((object) => object.kind === 'Namespace')!;
const namespaceLabels = { ...namespace.metadata.labels, 'kubernetes.io/metadata.name': namespace.metadata.name };
const pods = workloads(manifests).map(({ object, template }) => ({
  name: object.metadata.name,
  template,
  endpoint: {
    namespace: namespace.metadata.name,
    namespaceLabels,
    labels: template.metadata?.labels,
    ports: template.spec.containers.flatMap((container) => container.ports ?? []),
  } satisfies Endpoint,
}));

const outside = (name: string, labels: Record<string, string>): Endpoint => ({
  namespace: name,
  namespaceLabels: { 'kubernetes.io/metadata.name': name },
  labels,
});
/** The ingress-nginx controller, as its Helm chart and manifests label it. */
const ingressController = outside('ingress-nginx', { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' });
const kubeDns = outside('kube-system', { 'k8s-app': 'kube-dns' });
/** A pod elsewhere wearing the server's labels: labels alone must not grant access across namespaces. */
const impostor = outside('default', { 'app.kubernetes.io/component': 'server', 'app.kubernetes.io/part-of': 'fibstack' });
const internet: Endpoint = { ip: '203.0.113.10' };

/** The pod and container port a Service name and port lead to. */
function target(serviceName: string, servicePort: number) {
  const service = objects.find((object) => object.kind === 'Service' && object.metadata.name === serviceName)!;
  const spec = service.spec as { selector: Record<string, string>; ports: Array<{ port: number; targetPort: number | string }> };
  const pod = pods.find(({ endpoint }) => matches(spec.selector, endpoint.labels))!;
  const targetPort = spec.ports.find((port) => port.port === servicePort)!.targetPort;
  const containerPort = pod.endpoint.ports.find((port) => port.name === targetPort || port.containerPort === targetPort)!.containerPort;
  return { pod: pod.name, port: containerPort };
}

/** The connections the app makes, read from what it is configured with: env (PGHOST, REDIS_HOST) and the Ingress. */
function neededFlows(): string[] {
  const flows = new Set<string>();
  for (const pod of pods) {
    const containers = [...pod.template.spec.containers, ...(pod.template.spec.initContainers ?? [])];
    for (const container of containers) {
      const env = containerEnv(container, configMaps, secrets, containers);
      for (const [host, port] of [['PGHOST', 'PGPORT'], ['REDIS_HOST', 'REDIS_PORT']] as const) {
        if (!env[host]) continue;
        const to = target(env[host], Number(env[port]));
        flows.add(`${pod.name} → ${to.pod}:${to.port}`);
      }
    }
  }
  const ingress = objects.find((object) => object.kind === 'Ingress')!;
  const rules = (ingress.spec as { rules: Array<{ http: { paths: Array<{ backend: { service: { name: string; port: { number: number } } } }> } }> }).rules;
  for (const { backend } of rules.flatMap((rule) => rule.http.paths)) {
    const to = target(backend.service.name, backend.service.port.number);
    flows.add(`ingress-nginx → ${to.pod}:${to.port}`);
  }
  return [...flows].sort();
}

describe('the NetworkPolicy model itself', () => {
  const policy = (spec: object): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace: 'a' }, spec });
  const pod = (labels: Record<string, string>, ns = 'a'): Endpoint => ({ namespace: ns, namespaceLabels: { 'kubernetes.io/metadata.name': ns }, labels, ports: [{ name: 'http', containerPort: 80 }] });

  it('allows everything until a policy isolates a pod', () => {
    expect(allowed([], pod({ app: 'x' }), pod({ app: 'y' }), 80)).toBe(true);
    expect(allowed([policy({ podSelector: {}, policyTypes: ['Ingress'] })], pod({ app: 'x' }), pod({ app: 'y' }), 80)).toBe(false);
  });

  it('reads namespaceSelector + podSelector in one peer as AND, in two peers as OR', () => {
    const and = policy({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } }, podSelector: { matchLabels: { app: 'x' } } }] }] });
    const or = policy({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } }, { podSelector: { matchLabels: { app: 'x' } } }] }] });
    expect(allowed([and], pod({ app: 'y' }, 'b'), pod({}), 80)).toBe(false);
    expect(allowed([and], pod({ app: 'x' }, 'b'), pod({}), 80)).toBe(true);
    expect(allowed([or], pod({ app: 'y' }, 'b'), pod({}), 80)).toBe(true);
    expect(allowed([or], pod({ app: 'x' }, 'c'), pod({}), 80)).toBe(false);
  });

  it('matches expressions, named ports, protocols and ipBlocks', () => {
    const spec = {
      podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['y'] }] },
      policyTypes: ['Egress'],
      egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ protocol: 'UDP', port: 53 }] }, { ports: [{ port: 'http' }] }],
    };
    expect(allowed([policy(spec)], pod({ app: 'y' }), { ip: '10.2.3.4' }, 53, 'UDP')).toBe(true);
    expect(allowed([policy(spec)], pod({ app: 'y' }), { ip: '10.1.3.4' }, 53, 'UDP')).toBe(false);
    expect(allowed([policy(spec)], pod({ app: 'y' }), { ip: '10.2.3.4' }, 53, 'TCP')).toBe(false);
    expect(allowed([policy(spec)], pod({ app: 'y' }), pod({}), 80)).toBe(true);
    expect(allowed([policy(spec)], pod({ app: 'y' }), pod({}), 81)).toBe(false);
    expect(allowed([policy(spec)], pod({ app: 'z' }), { ip: '1.1.1.1' }, 443)).toBe(true);
  });
});

describe('k8s/ NetworkPolicies', () => {
  it('the app needs exactly these connections (from its env and the Ingress)', () => {
    expect(neededFlows()).toEqual([
      'ingress-nginx → client:8080',
      'ingress-nginx → server:5000',
      'server → postgres:5432',
      'server → redis:6379',
      'worker → postgres:5432',
      'worker → redis:6379',
    ]);
  });

  it('allow exactly the connections the app needs between its pods and from ingress-nginx, and nothing else', () => {
    const sources = [...pods.map(({ name, endpoint }) => [name, endpoint] as const), ['ingress-nginx', ingressController] as const, ['impostor', impostor] as const];
    const open: string[] = [];
    for (const [from, source] of sources) {
      for (const destination of pods) {
        for (const { containerPort } of destination.endpoint.ports) {
          if (from !== destination.name && allowed(policies, source, destination.endpoint, containerPort)) open.push(`${from} → ${destination.name}:${containerPort}`);
        }
      }
    }
    expect(open.sort()).toEqual(neededFlows());
  });

  it.each(pods.map(({ name, endpoint }) => [name, endpoint] as const))('%s resolves names through kube-dns and reaches nothing outside', (_name, endpoint) => {
    expect(allowed(policies, endpoint, kubeDns, 53, 'UDP')).toBe(true);
    expect(allowed(policies, endpoint, kubeDns, 53, 'TCP')).toBe(true);
    expect(allowed(policies, endpoint, kubeDns, 9153)).toBe(false);
    expect(allowed(policies, endpoint, internet, 443)).toBe(false);
    expect(allowed(policies, endpoint, internet, 53, 'UDP')).toBe(false);
  });
});
