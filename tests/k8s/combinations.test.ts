import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectionBudget } from './connection-budget.js';
import { flowsOf } from './flows.js';
import { validateKubeObject, type KubeObject } from '../support/kubernetes-schema.js';
import { configMapsOf, containerEnv, containersOf, CREATED_BY_HAND, matches, podTemplates, workloads } from '../support/k8s-manifests.js';
import { copyFilledIn, parseObjects, type Deployable } from '../support/kustomize-render.js';

/**
 * Every overlay with every set of components, in the order scripts/deploy-eks applies them, rendered
 * by kustomize from a checkout whose placeholders an operator filled in. A combination that makes no
 * sense must be refused by the render itself with a message that says why (the REFUSED: markers of
 * the overlays and components); every other one must pass the checks below.
 */
const OVERLAYS = ['base', 'local', 'eks', 'eks-managed-data'];
const COMPONENTS = [
  'gateway-api',
  'gateway-api-aws',
  'nlb-tls',
  'keda-autoscaling',
  'elasticache-cluster-mode',
  'observability',
  'bull-board',
];

/** The combinations that make no sense, and what the render must say about each. */
const REFUSALS: Array<{ applies: (overlay: string, components: string[]) => boolean; message: RegExp }> = [
  {
    applies: (_overlay, components) => components.includes('gateway-api') && components.includes('nlb-tls'),
    message: /REFUSED: gateway-api and nlb-tls cannot be combined \(nlb-tls configures the edge's NLB, which the Gateway replaces/,
  },
  {
    applies: (overlay, components) => overlay === 'local' && components.includes('nlb-tls'),
    message: /REFUSED: the local overlay and nlb-tls cannot be combined \(nlb-tls needs the AWS Load Balancer Controller/,
  },
  {
    applies: (overlay, components) => overlay === 'local' && components.includes('gateway-api-aws'),
    message: /REFUSED: the local overlay and gateway-api-aws cannot be combined/,
  },
  {
    applies: (_overlay, components) => components.includes('gateway-api-aws') && !components.includes('gateway-api'),
    message: /REFUSED: gateway-api-aws needs the gateway-api component, listed before it/,
  },
  {
    applies: (overlay, components) => components.includes('elasticache-cluster-mode') && overlay !== 'eks-managed-data',
    message: /REFUSED: elasticache-cluster-mode needs the eks-managed-data overlay/,
  },
];

const subsets = COMPONENTS.reduce<string[][]>((sets, component) => [...sets, ...sets.map((set) => [...set, component])], [[]]);
const combinations = OVERLAYS.flatMap((overlay) => subsets.map((components) => ({ overlay, components })));

const root = mkdtempSync(join(tmpdir(), 'fibstack-combinations-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
copyFilledIn(root);
const run = promisify(execFile);

type Outcome = { objects: KubeObject[] } | { refused: string };
async function renderCombination(overlay: string, components: string[], index: number): Promise<Outcome> {
  const dir = join(root, 'combinations', String(index));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [overlay === 'base' ? '../../k8s' : `../../kustomize/overlays/${overlay}`],
      ...(components.length ? { components: components.map((name) => `../../kustomize/components/${name}`) } : {}),
    }),
  );
  try {
    const { stdout } = await run('kubectl', ['kustomize', dir], { maxBuffer: 16 * 1024 * 1024 });
    return { objects: parseObjects(stdout) };
  } catch (error) {
    return { refused: (error as { stderr?: string }).stderr ?? String(error) };
  }
}

/** Renders them all, a few kustomize processes at a time. */
const outcomes: Outcome[] = new Array(combinations.length);
let next = 0;
await Promise.all(
  Array.from({ length: 4 }, async () => {
    while (next < combinations.length) {
      const index = next++;
      outcomes[index] = await renderCombination(combinations[index]!.overlay, combinations[index]!.components, index);
    }
  }),
);

const named = (objects: KubeObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);

/** Most objects are the same in many combinations: each distinct one is validated once. */
const validations = new Map<string, Promise<string[]>>();
function validated(object: KubeObject): Promise<string[]> {
  const key = JSON.stringify(object);
  if (!validations.has(key)) validations.set(key, validateKubeObject(object));
  return validations.get(key)!;
}

/** Every problem of a rendered combination; none for a good one. */
async function problemsOf(overlay: string, components: string[], objects: KubeObject[]): Promise<string[]> {
  const problems: string[] = [];
  const configMaps = { ...CREATED_BY_HAND.configMaps, ...configMapsOf(objects) };
  const pods = podTemplates(objects);

  // Schemas: the Kubernetes API's, the CRDs' (Gateway API, KEDA, Prometheus Operator, the AWS controller).
  for (const object of objects)
    for (const error of await validated(object)) problems.push(`${object.kind}/${object.metadata.name}: ${error}`);

  // References.
  for (const object of objects) {
    if (object.metadata.labels?.['app.kubernetes.io/part-of'] !== 'fibstack')
      problems.push(
        `${object.kind}/${object.metadata.name} lacks app.kubernetes.io/part-of=fibstack (deploy-eks applies and prunes by it)`,
      );
  }
  for (const { object, template } of pods) {
    const account = template.spec.serviceAccountName as string | undefined;
    if (!account || !named(objects, 'ServiceAccount', account))
      problems.push(`${object.metadata.name}: ServiceAccount ${account} not rendered`);
    for (const container of containersOf(template)) {
      for (const source of container.envFrom ?? [])
        if (!configMaps[source.configMapRef!.name]) problems.push(`${object.metadata.name}: no ConfigMap ${source.configMapRef!.name}`);
      for (const { name, valueFrom } of container.env ?? []) {
        const configMapKey = valueFrom?.configMapKeyRef;
        if (configMapKey && !(configMapKey.key in (configMaps[configMapKey.name] ?? {})))
          problems.push(`${object.metadata.name}/${container.name} ${name}: no ${configMapKey.name}.${configMapKey.key}`);
        const secretKey = valueFrom?.secretKeyRef;
        if (secretKey && !(secretKey.key in (CREATED_BY_HAND.secrets[secretKey.name] ?? {})))
          problems.push(`${object.metadata.name}/${container.name} ${name}: no ${secretKey.name}.${secretKey.key}`);
      }
    }
  }
  for (const service of objects.filter((object) => object.kind === 'Service')) {
    const selector = (service.spec as { selector: Record<string, string> }).selector;
    if (workloads(objects).filter(({ template }) => matches(selector, template.metadata?.labels)).length !== 1)
      problems.push(`Service ${service.metadata.name} selects no single workload`);
  }
  for (const route of objects.filter((object) => object.kind === 'HTTPRoute')) {
    const spec = route.spec as {
      parentRefs: Array<{ name: string }>;
      rules: Array<{ backendRefs: Array<{ name: string; port: number }> }>;
    };
    for (const parent of spec.parentRefs)
      if (!named(objects, 'Gateway', parent.name)) problems.push(`HTTPRoute: no Gateway ${parent.name}`);
    for (const backend of spec.rules.flatMap((rule) => rule.backendRefs)) {
      const service = named(objects, 'Service', backend.name);
      if (!(service?.spec as { ports?: Array<{ port: number }> } | undefined)?.ports?.some((port) => port.port === backend.port))
        problems.push(`HTTPRoute: no Service port ${backend.name}:${backend.port}`);
    }
  }
  for (const gateway of objects.filter((object) => object.kind === 'Gateway')) {
    const spec = gateway.spec as { gatewayClassName: string; infrastructure?: { parametersRef?: { kind: string; name: string } } };
    const reference = spec.infrastructure?.parametersRef;
    if (reference && !named(objects, reference.kind, reference.name)) problems.push(`Gateway: no ${reference.kind} ${reference.name}`);
  }
  for (const targets of objects.filter((object) => object.kind === 'TargetGroupConfiguration')) {
    const name = (targets.spec as { targetReference: { name: string } }).targetReference.name;
    if (!named(objects, 'Service', name)) problems.push(`TargetGroupConfiguration: no Service ${name}`);
  }

  // One autoscaler per Deployment (KEDA's ScaledObject makes an HPA of its own), on a Deployment that exists.
  const autoscaled = [
    ...objects.filter((object) => object.kind === 'HorizontalPodAutoscaler'),
    ...objects.filter((object) => object.kind === 'ScaledObject'),
  ].map((object) => (object.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name);
  for (const name of autoscaled) {
    if (autoscaled.filter((candidate) => candidate === name).length > 1) problems.push(`${name} has two autoscalers`);
    if (!named(objects, 'Deployment', name)) problems.push(`autoscaler of a missing Deployment ${name}`);
  }

  // What a KEDA trigger reads: env of the target's container, a TriggerAuthentication, TLS as the worker.
  for (const scaled of objects.filter((object) => object.kind === 'ScaledObject')) {
    const spec = scaled.spec as {
      scaleTargetRef: { name: string };
      triggers: Array<{ type: string; metadata: Record<string, string>; authenticationRef?: { name: string } }>;
    };
    const target = workloads(objects).find(
      ({ object }) => object.kind === 'Deployment' && object.metadata.name === spec.scaleTargetRef.name,
    )!;
    const env = containerEnv(target.template.spec.containers[0]!, configMaps, CREATED_BY_HAND.secrets, containersOf(target.template));
    for (const trigger of spec.triggers) {
      for (const [key, variable] of Object.entries(trigger.metadata))
        if (key.endsWith('FromEnv') && env[variable] === undefined)
          problems.push(`ScaledObject ${trigger.type} trigger: ${key} ${variable} is not in the worker's env`);
      if (trigger.authenticationRef && !named(objects, 'TriggerAuthentication', trigger.authenticationRef.name))
        problems.push(`ScaledObject: no TriggerAuthentication ${trigger.authenticationRef.name}`);
      if (trigger.type === 'redis' && (trigger.metadata.enableTLS === 'true') !== (env.REDIS_URL?.startsWith('rediss://') ?? false))
        problems.push('ScaledObject: TLS to Redis differs from the worker’s');
    }
  }

  // The edge Service agrees with the entry in use: behind a Gateway a plain ClusterIP; otherwise a
  // LoadBalancer, the AWS controller's NLB (class and annotations) everywhere but on a local cluster.
  const edge = named(objects, 'Service', 'edge')!;
  const edgeSpec = edge.spec as { type: string; loadBalancerClass?: string; ports: Array<{ port: number }> };
  const annotations = Object.keys(edge.metadata.annotations ?? {});
  const awsAnnotations = annotations.filter((key) => key.startsWith('service.beta.kubernetes.io/aws-load-balancer-'));
  if (objects.some((object) => object.kind === 'Gateway')) {
    if (edgeSpec.type !== 'ClusterIP' || edgeSpec.loadBalancerClass || annotations.length)
      problems.push(
        `behind a Gateway the edge Service is ${edgeSpec.type} with ${edgeSpec.loadBalancerClass} and ${annotations.join(', ')}`,
      );
  } else if (edgeSpec.type !== 'LoadBalancer') {
    problems.push(`the edge Service is ${edgeSpec.type}, and nothing else is an entry`);
  } else if (overlay === 'local') {
    if (edgeSpec.loadBalancerClass || awsAnnotations.length)
      problems.push('a local cluster’s edge Service carries the AWS controller’s class or annotations');
  } else if (
    edgeSpec.loadBalancerClass !== 'service.k8s.aws/nlb' ||
    !awsAnnotations.includes('service.beta.kubernetes.io/aws-load-balancer-scheme')
  ) {
    problems.push('the edge Service on EKS is not the AWS controller’s internet-facing NLB');
  }
  if (components.includes('nlb-tls') !== edgeSpec.ports.some((port) => port.port === 443))
    problems.push('HTTPS on 443 without nlb-tls, or nlb-tls without it');

  // The NetworkPolicies allow exactly the flows the configuration needs.
  const deployable: Deployable = { name: `${overlay} ${components.join(' ')}`, variant: { overlay, components }, objects };
  const flows = flowsOf(deployable);
  const open = flows.open();
  const needed = flows.needed();
  for (const flow of needed) if (!open.includes(flow)) problems.push(`needed but blocked: ${flow}`);
  for (const flow of open) if (!needed.includes(flow)) problems.push(`allowed but not needed: ${flow}`);

  // Postgres connections through a rollout at maximum scale.
  const budget = connectionBudget(deployable);
  if (budget.total > budget.max) problems.push(`connections ${budget.total} > max_connections ${budget.max}`);
  return problems;
}

describe('every overlay × every set of components', () => {
  it('renders 256 combinations: refused exactly where a rule says, with its message', () => {
    expect(combinations).toHaveLength(OVERLAYS.length * 2 ** COMPONENTS.length);
    const refusedWrongly = combinations.flatMap(({ overlay, components }, index) => {
      const outcome = outcomes[index]!;
      const rules = REFUSALS.filter((rule) => rule.applies(overlay, components));
      const label = `${overlay} + [${components.join(', ')}]`;
      if ('objects' in outcome) return rules.length ? [`${label} rendered, but ${rules[0]!.message}`] : [];
      if (!rules.length) return [`${label} refused: ${outcome.refused}`];
      return rules.some((rule) => rule.message.test(outcome.refused)) ? [] : [`${label} refused without saying why: ${outcome.refused}`];
    });
    expect(refusedWrongly).toEqual([]);
  });

  it.each(combinations.map((combination, index) => [`${combination.overlay} + [${combination.components.join(', ')}]`, index] as const))(
    '%s: valid, referenced, one autoscaler each, KEDA reading what exists, the edge as the entry says, exact NetworkPolicies, within the connection budget',
    async (_label, index) => {
      const outcome = outcomes[index]!;
      if ('refused' in outcome) return expect(outcome.refused).toMatch(/REFUSED: /);
      const { overlay, components } = combinations[index]!;
      expect(await problemsOf(overlay, components, outcome.objects)).toEqual([]);
    },
  );
});
