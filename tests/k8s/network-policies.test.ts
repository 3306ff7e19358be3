import { describe, expect, it } from 'vitest';
import { flowsOf, internet, kubeDns } from './flows.js';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { allowed, type Endpoint } from './network-policy.js';
import { deployables } from '../support/kustomize-render.js';

describe('the NetworkPolicy model itself', () => {
  const policy = (spec: object): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p', namespace: 'a' },
    spec,
  });
  const pod = (labels: Record<string, string>, ns = 'a'): Endpoint => ({
    namespace: ns,
    namespaceLabels: { 'kubernetes.io/metadata.name': ns },
    labels,
    ports: [{ name: 'http', containerPort: 80 }],
  });

  it('allows everything until a policy isolates a pod', () => {
    expect(allowed([], pod({ app: 'x' }), pod({ app: 'y' }), 80)).toBe(true);
    expect(allowed([policy({ podSelector: {}, policyTypes: ['Ingress'] })], pod({ app: 'x' }), pod({ app: 'y' }), 80)).toBe(false);
  });

  it('reads namespaceSelector + podSelector in one peer as AND, in two peers as OR', () => {
    const and = policy({
      podSelector: {},
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } }, podSelector: { matchLabels: { app: 'x' } } },
          ],
        },
      ],
    });
    const or = policy({
      podSelector: {},
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } },
            { podSelector: { matchLabels: { app: 'x' } } },
          ],
        },
      ],
    });
    expect(allowed([and], pod({ app: 'y' }, 'b'), pod({}), 80)).toBe(false);
    expect(allowed([and], pod({ app: 'x' }, 'b'), pod({}), 80)).toBe(true);
    expect(allowed([or], pod({ app: 'y' }, 'b'), pod({}), 80)).toBe(true);
    expect(allowed([or], pod({ app: 'x' }, 'c'), pod({}), 80)).toBe(false);
  });

  it('matches expressions, named ports, protocols and ipBlocks', () => {
    const spec = {
      podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['y'] }] },
      policyTypes: ['Egress'],
      egress: [
        { to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ protocol: 'UDP', port: 53 }] },
        { ports: [{ port: 'http' }] },
      ],
    };
    expect(allowed([policy(spec)], pod({ app: 'y' }), { ip: '10.2.3.4' }, 53, 'UDP')).toBe(true);
    expect(allowed([policy(spec)], pod({ app: 'y' }), { ip: '10.1.3.4' }, 53, 'UDP')).toBe(false);
    expect(allowed([policy(spec)], pod({ app: 'y' }), { ip: '10.2.3.4' }, 53, 'TCP')).toBe(false);
    expect(allowed([policy(spec)], pod({ app: 'y' }), pod({}), 80)).toBe(true);
    expect(allowed([policy(spec)], pod({ app: 'y' }), pod({}), 81)).toBe(false);
    expect(allowed([policy(spec)], pod({ app: 'z' }), { ip: '1.1.1.1' }, 443)).toBe(true);
  });
});

const all = deployables();

describe('the flows the app needs, from its configuration', () => {
  it('with observability: Prometheus scrapes the API and the worker, which export spans to the collector', () => {
    const flows = flowsOf(all.find((deployable) => deployable.name === 'kustomize base + observability')!);
    const added = flows.needed().filter((flow) => !flowsOf(all[0]!).needed().includes(flow));
    expect(added).toEqual([
      'prometheus → server:5000',
      'prometheus → worker:9090',
      'server → otel-collector:4318',
      'worker → otel-collector:4318',
    ]);
  });

  it('in k8s/: anyone to the edge, the edge to the client and server, the apps to the stores, the backup to Postgres', () => {
    expect(flowsOf(all[0]!).needed()).toEqual([
      'edge → client:8080',
      'edge → server:5000',
      'impostor → edge:80',
      'internet → edge:80',
      'keda-operator → edge:80',
      'postgres-backup → postgres:5432',
      'prometheus → edge:80',
      'server → postgres:5432',
      'server → redis:6379',
      'stray-prometheus → edge:80',
      'worker → postgres:5432',
      'worker → redis:6379',
    ]);
  });

  it('with managed data: the apps to the managed services only', () => {
    expect(flowsOf(all.find((deployable) => deployable.name === 'overlays/eks-managed-data')!).needed()).toEqual([
      'edge → client:8080',
      'edge → server:5000',
      'impostor → edge:80',
      'internet → edge:80',
      'keda-operator → edge:80',
      'prometheus → edge:80',
      'server → managed postgres:5432',
      'server → managed redis:6379',
      'stray-prometheus → edge:80',
      'worker → managed postgres:5432',
      'worker → managed redis:6379',
    ]);
  });
});

describe.each(all.map((deployable) => [deployable.name, deployable] as const))('%s: NetworkPolicies', (_name, deployable) => {
  const flows = flowsOf(deployable);

  it('deny by default and allow exactly the connections the app needs, nothing else', () => {
    expect(flows.policies.find((policy) => policy.metadata.name === 'default-deny')?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
    expect(flows.open()).toEqual(flows.needed());
  });

  it.each(flows.pods.map(({ name, endpoint }) => [name, endpoint] as const))(
    '%s resolves names through kube-dns and reaches nothing else outside',
    (_pod, endpoint) => {
      expect(allowed(flows.policies, endpoint, kubeDns, 53, 'UDP')).toBe(true);
      expect(allowed(flows.policies, endpoint, kubeDns, 53, 'TCP')).toBe(true);
      expect(allowed(flows.policies, endpoint, kubeDns, 9153)).toBe(false);
      expect(allowed(flows.policies, endpoint, internet, 443)).toBe(false);
      expect(allowed(flows.policies, endpoint, internet, 53, 'UDP')).toBe(false);
      for (const host of flows.managedHosts)
        for (const port of [22, 443, 8080]) expect(allowed(flows.policies, endpoint, host, port)).toBe(false);
    },
  );
});
