import { configMapsOf, containerEnv, containersOf, CREATED_BY_HAND, matches, podTemplates } from '../support/k8s-manifests.js';
import { allowed, type Endpoint } from './network-policy.js';
import { managedDataFacts, type Deployable } from '../support/kustomize-render.js';

/**
 * The connections one way of deploying needs (read from the app's configuration) and the ones its
 * NetworkPolicies allow (network-policy.ts), as flows `from → pod:port`, for tests/k8s to compare.
 */
const outside = (name: string, labels: Record<string, string>): Endpoint => ({
  namespace: name,
  namespaceLabels: { 'kubernetes.io/metadata.name': name },
  labels,
});
export const kubeDns = outside('kube-system', { 'k8s-app': 'kube-dns' });
/** A pod elsewhere wearing the server's labels: labels alone must not grant access across namespaces. */
const impostor = outside('default', { 'app.kubernetes.io/component': 'server', 'app.kubernetes.io/part-of': 'fibstack' });
/** KEDA's operator, as its Helm chart labels it. */
const kedaOperator = outside('keda', { 'app.kubernetes.io/name': 'keda-operator', app: 'keda-operator' });
/** A client on the internet, as the load balancer delivers it (externalTrafficPolicy: Local keeps its address). */
export const internet: Endpoint = { ip: '203.0.113.10' };
/** Prometheus as kube-prometheus-stack labels it, in `monitoring`; and the same labels in another namespace. */
const prometheus = outside('monitoring', { 'app.kubernetes.io/name': 'prometheus' });
const strayPrometheus = outside('default', { 'app.kubernetes.io/name': 'prometheus' });
/** The OpenTelemetry Collector's pods as its Helm chart labels them, in the namespace its address names. */
const collectorIn = (namespace: string) => outside(namespace, { 'app.kubernetes.io/name': 'opentelemetry-collector' });
const EXTERNAL_SOURCES = ['internet', 'impostor', 'keda-operator', 'prometheus', 'stray-prometheus'];

/** The flows of one way of deploying: what the app needs (from its env) and what the policies allow. */
export function flowsOf({ objects, variant }: Deployable) {
  const policies = objects.filter((object) => object.kind === 'NetworkPolicy');
  const configMaps = { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) };
  const namespace = objects.find((object) => object.kind === 'Namespace')!;
  const namespaceLabels = { ...namespace.metadata.labels, 'kubernetes.io/metadata.name': namespace.metadata.name };
  const pods = podTemplates(objects).map(({ object, template }) => ({
    name: object.metadata.name,
    template,
    endpoint: {
      namespace: namespace.metadata.name,
      namespaceLabels,
      labels: template.metadata?.labels,
      ports: template.spec.containers.flatMap((container) => container.ports ?? []),
    } satisfies Endpoint,
  }));
  const managed = variant ? managedDataFacts(variant.overlay) : undefined;
  /** An address inside each managed service's subnet: the first host of the CIDR. */
  const managedHosts: Record<string, Endpoint> = managed
    ? {
        postgres: { ip: managed.POSTGRES_CIDR!.split('/')[0]!.replace(/\.0$/, '.1') },
        redis: { ip: managed.REDIS_CIDR!.split('/')[0]!.replace(/\.0$/, '.1') },
      }
    : {};

  /** The pod and container port a Service name and port lead to. */
  function target(serviceName: string, servicePort: number) {
    const service = objects.find((object) => object.kind === 'Service' && object.metadata.name === serviceName)!;
    const spec = service.spec as { selector: Record<string, string>; ports: Array<{ port: number; targetPort: number | string }> };
    const pod = pods.find(({ endpoint }) => matches(spec.selector, endpoint.labels))!;
    const targetPort = spec.ports.find((port) => port.port === servicePort)!.targetPort;
    const containerPort = pod.endpoint.ports.find((port) => port.name === targetPort || port.containerPort === targetPort)!.containerPort;
    return { pod: pod.name, port: containerPort };
  }

  /** The connections the app makes, read from its configuration: env (PG*, REDIS_*, URLs, the edge's upstreams) and the edge Service. */
  function needed(): string[] {
    const flows = new Set<string>();
    for (const pod of pods) {
      const containers = containersOf(pod.template);
      for (const container of containers) {
        const env = containerEnv(container, configMaps, CREATED_BY_HAND.secrets, containers);
        for (const [host, port, store] of [
          ['PGHOST', 'PGPORT', 'postgres'],
          ['REDIS_HOST', 'REDIS_PORT', 'redis'],
        ] as const) {
          if (!env[host] || (host === 'PGHOST' && env.DATABASE_URL) || (host === 'REDIS_HOST' && env.REDIS_URL)) continue;
          // A host that is no Service here is the managed service's endpoint.
          if (!objects.some((object) => object.kind === 'Service' && object.metadata.name === env[host])) {
            flows.add(`${pod.name} → managed ${store}:${env[port]}`);
            continue;
          }
          const to = target(env[host], Number(env[port]));
          flows.add(`${pod.name} → ${to.pod}:${to.port}`);
        }
        for (const [variable, store] of [
          ['DATABASE_URL', 'postgres'],
          ['REDIS_URL', 'redis'],
        ] as const) {
          if (env[variable]) flows.add(`${pod.name} → managed ${store}:${new URL(env[variable]).port}`);
        }
        for (const variable of ['CLIENT_UPSTREAM', 'SERVER_UPSTREAM']) {
          if (!env[variable]) continue;
          const [host, port] = env[variable].split(':');
          const to = target(host!, Number(port));
          flows.add(`${pod.name} → ${to.pod}:${to.port}`);
        }
      }
    }
    // The public entry: anyone outside the namespace, through the load balancer or a Gateway.
    const edge = objects.find((object) => object.kind === 'Service' && object.metadata.name === 'edge')!;
    for (const { port } of (edge.spec as { ports: Array<{ port: number }> }).ports) {
      const to = target('edge', port);
      for (const from of EXTERNAL_SOURCES) flows.add(`${from} → ${to.pod}:${to.port}`);
    }
    if (objects.some((object) => object.kind === 'ScaledObject') && !managed) flows.add('keda-operator → redis:6379');
    // Tracing: the collector named by OTEL_EXPORTER_OTLP_ENDPOINT (http://<service>.<namespace>.svc:<port>).
    for (const pod of pods) {
      const containers = containersOf(pod.template);
      for (const container of containers) {
        const endpoint = containerEnv(container, configMaps, CREATED_BY_HAND.secrets, containers).OTEL_EXPORTER_OTLP_ENDPOINT;
        if (endpoint) flows.add(`${pod.name} → otel-collector:${new URL(endpoint).port}`);
      }
    }
    // Scraping: the pods and ports the ServiceMonitors (through their Service) and PodMonitors select.
    for (const monitor of objects.filter((object) => object.kind === 'ServiceMonitor')) {
      const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> };
      for (const service of objects.filter(
        (object) => object.kind === 'Service' && matches(spec.selector.matchLabels, object.metadata.labels),
      )) {
        const ports = (service.spec as { ports: Array<{ name: string; port: number }> }).ports;
        for (const { port } of spec.endpoints) {
          const to = target(service.metadata.name, ports.find((candidate) => candidate.name === port)!.port);
          flows.add(`prometheus → ${to.pod}:${to.port}`);
        }
      }
    }
    for (const monitor of objects.filter((object) => object.kind === 'PodMonitor')) {
      const spec = monitor.spec as { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string }> };
      for (const pod of pods.filter(({ endpoint }) => matches(spec.selector.matchLabels, endpoint.labels))) {
        for (const { port } of spec.podMetricsEndpoints)
          flows.add(`prometheus → ${pod.name}:${pod.endpoint.ports.find((candidate) => candidate.name === port)!.containerPort}`);
      }
    }
    return [...flows].sort();
  }

  /** Every connection the policies allow between the app's pods, from outside, and to the managed services. */
  function open(): string[] {
    const external = { internet, impostor, 'keda-operator': kedaOperator, prometheus, 'stray-prometheus': strayPrometheus };
    const sources = [...pods.map(({ name, endpoint }) => [name, endpoint] as const), ...Object.entries(external)];
    const flows: string[] = [];
    for (const [from, source] of sources) {
      for (const destination of pods) {
        for (const { containerPort } of destination.endpoint.ports) {
          if (from !== destination.name && allowed(policies, source, destination.endpoint, containerPort))
            flows.push(`${from} → ${destination.name}:${containerPort}`);
        }
      }
    }
    // Outside the cluster only the pods' egress policies apply.
    for (const { name, endpoint } of pods) {
      for (const [store, port] of [
        ['postgres', 5432],
        ['redis', 6379],
      ] as const) {
        if (managedHosts[store] && allowed(policies, endpoint, managedHosts[store], port)) flows.push(`${name} → managed ${store}:${port}`);
      }
      // The collector, in the namespace the component's address names (whether or not this variant uses it).
      if (allowed(policies, endpoint, collectorIn('observability'), 4318)) flows.push(`${name} → otel-collector:4318`);
    }
    return flows.sort();
  }

  return { policies, pods, needed, open, managedHosts: Object.values(managedHosts) };
}
