import type { KubeObject } from '../support/kubernetes-schema.js';

/**
 * An offline model of NetworkPolicy semantics (networking.k8s.io/v1), enough to ask "may this pod open
 * that connection?" of the policies in k8s/: pod and namespace selectors (matchLabels and
 * matchExpressions), IPv4 ipBlocks, numbered and named ports with endPort, and isolation (a pod is
 * isolated in a direction once any policy selecting it lists that policy type). Traffic between a node
 * and its own pods (kubelet probes) is always allowed by Kubernetes and is not modelled.
 */

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: Array<{ protocol?: string; port?: number | string; endPort?: number }>;
}

interface PolicySpec {
  podSelector: LabelSelector;
  policyTypes?: Array<'Ingress' | 'Egress'>;
  ingress?: Rule[];
  egress?: Rule[];
}

/** A pod (namespace, its labels and named ports) or an address outside the cluster. */
export interface Endpoint {
  namespace?: string;
  namespaceLabels?: Record<string, string>;
  labels?: Record<string, string>;
  ports?: Array<{ name?: string; containerPort: number }>;
  ip?: string;
}

export function selects(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  return (
    byLabels &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      switch (operator) {
        case 'In':
          return key in labels && values.includes(labels[key]!);
        case 'NotIn':
          return !(key in labels) || !values.includes(labels[key]!);
        case 'Exists':
          return key in labels;
        case 'DoesNotExist':
          return !(key in labels);
      }
    })
  );
}

const ipv4 = (address: string) => address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0);

function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(ip) / size) === Math.floor(ipv4(base!) / size);
}

function peerMatches(peer: Peer, policyNamespace: string, endpoint: Endpoint): boolean {
  if (peer.ipBlock) {
    return (
      !!endpoint.ip && inCidr(endpoint.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(endpoint.ip!, cidr))
    );
  }
  if (endpoint.namespace === undefined) return false; // outside the cluster: only ipBlocks match
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, endpoint.namespaceLabels)
    : endpoint.namespace === policyNamespace;
  return namespaceOk && (!peer.podSelector || selects(peer.podSelector, endpoint.labels));
}

function portMatches(rule: Rule, port: number, protocol: string, destination: Endpoint): boolean {
  if (!rule.ports?.length) return true;
  return rule.ports.some((candidate) => {
    if ((candidate.protocol ?? 'TCP') !== protocol) return false;
    if (candidate.port === undefined) return true;
    if (typeof candidate.port === 'string') {
      return (destination.ports ?? []).some((named) => named.name === candidate.port && named.containerPort === port);
    }
    return port >= candidate.port && port <= (candidate.endPort ?? candidate.port);
  });
}

function typesOf(spec: PolicySpec): string[] {
  return spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
}

/** Whether `policies` let `source` open a connection to `destination` on `port`/`protocol`. */
export function allowed(policies: KubeObject[], source: Endpoint, destination: Endpoint, port: number, protocol = 'TCP'): boolean {
  const side = (pod: Endpoint, direction: 'Ingress' | 'Egress', other: Endpoint) => {
    if (pod.namespace === undefined) return true; // not a pod: no policy isolates it
    const isolating = policies.filter((policy) => {
      const spec = policy.spec as PolicySpec;
      return policy.metadata.namespace === pod.namespace && typesOf(spec).includes(direction) && selects(spec.podSelector, pod.labels);
    });
    if (!isolating.length) return true;
    return isolating.some((policy) => {
      const spec = policy.spec as PolicySpec;
      const rules = (direction === 'Ingress' ? spec.ingress : spec.egress) ?? [];
      return rules.some((rule) => {
        const peers = direction === 'Ingress' ? rule.from : rule.to;
        const peersOk = !peers?.length || peers.some((peer) => peerMatches(peer, policy.metadata.namespace!, other));
        return peersOk && portMatches(rule, port, protocol, destination);
      });
    });
  };
  return side(source, 'Egress', destination) && side(destination, 'Ingress', source);
}
