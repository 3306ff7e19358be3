import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO, render, type Variant } from '../support/kustomize-render.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string }>;
}

const GROUP = 'fibstack-deployer';
const NAMESPACE = 'fibstack';
const README = readFileSync(join(REPO, 'k8s/README.md'), 'utf8');
const rbac = parseAllDocuments(readFileSync(join(REPO, 'eks/ci-access.yaml'), 'utf8'))
  .map((document) => document.toJS() as RbacObject | null)
  .filter((object): object is RbacObject => object !== null);

/**
 * AmazonEKSEditPolicy, as EKS documents it: the rights of Kubernetes' user-facing `edit` role, on Kubernetes' own
 * kinds (an access policy is fixed: it gains no add-on's kinds). Only the resources a deploy could touch are listed.
 */
const EDIT_POLICY: Rule[] = [
  {
    apiGroups: [''],
    resources: ['configmaps', 'persistentvolumeclaims', 'pods', 'secrets', 'serviceaccounts', 'services'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  {
    apiGroups: ['apps'],
    resources: ['daemonsets', 'deployments', 'replicasets', 'statefulsets'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  {
    apiGroups: ['autoscaling'],
    resources: ['horizontalpodautoscalers'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
  { apiGroups: ['batch'], resources: ['cronjobs', 'jobs'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
  {
    apiGroups: ['networking.k8s.io'],
    resources: ['ingresses', 'networkpolicies'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  },
];

/** The rules the group holds in `namespace` ('-': cluster-wide), through the bindings of eks/ci-access.yaml. */
function groupRules(namespace: string): Rule[] {
  const bound = rbac.filter(
    (object) =>
      (object.kind === 'ClusterRoleBinding' || (object.kind === 'RoleBinding' && object.metadata.namespace === namespace)) &&
      object.subjects?.some((subject) => subject.kind === 'Group' && subject.name === GROUP),
  );
  return bound.flatMap((binding) =>
    rbac
      .filter(
        (role) =>
          role.kind === binding.roleRef!.kind &&
          role.metadata.name === binding.roleRef!.name &&
          (role.kind === 'ClusterRole' || role.metadata.namespace === binding.metadata.namespace),
      )
      .flatMap((role) => role.rules ?? []),
  );
}

/** Whether CI may `verb` `resource[/name]` in `namespace` ('-': cluster-wide), as the API server's RBAC decides. */
function allowed(verb: string, target: string, namespace: string): boolean {
  const [qualified, name] = target.split('/') as [string, string | undefined];
  const dot = qualified.indexOf('.');
  const [resource, group] = dot < 0 ? [qualified, ''] : [qualified.slice(0, dot), qualified.slice(dot + 1)];
  const rules = [...groupRules(namespace), ...(namespace === NAMESPACE ? EDIT_POLICY : [])];
  return rules.some(
    (rule) =>
      rule.apiGroups.includes(group) &&
      rule.resources.includes(resource) &&
      rule.verbs.includes(verb) &&
      (!rule.resourceNames || (name !== undefined && rule.resourceNames.includes(name))),
  );
}

/** The `kubectl auth can-i` checks scripts/deploy-eks makes for a render (scripts/deploy-eks-plan.mjs). */
function rightsChecked(variant: Variant): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'ci-access-'));
  try {
    writeFileSync(
      join(dir, 'rendered.yaml'),
      render({ ...variant, filledIn: true })
        .map((object) => stringify(object))
        .join('---\n'),
    );
    const plan = execFileSync('node', [join(REPO, 'scripts/deploy-eks-plan.mjs'), join(dir, 'rendered.yaml')], { encoding: 'utf8' });
    return plan
      .split('\n')
      .filter((line) => line.startsWith('can-i '))
      .map((line) => line.slice('can-i '.length));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ALL_COMPONENTS = ['gateway-api', 'gateway-api-aws', 'nlb-tls', 'keda-autoscaling', 'observability', 'bull-board', 'signed-images'];
const VARIANTS: Array<[string, Variant]> = [
  ['overlays/eks', { overlay: 'eks' }],
  ['overlays/eks with every component but nlb-tls', { overlay: 'eks', components: ALL_COMPONENTS.filter((name) => name !== 'nlb-tls') }],
  ['overlays/eks + nlb-tls + keda-autoscaling', { overlay: 'eks', components: ['nlb-tls', 'keda-autoscaling'] }],
  [
    'overlays/eks-managed-data + keda-autoscaling + elasticache-cluster-mode + observability',
    { overlay: 'eks-managed-data', components: ['keda-autoscaling', 'elasticache-cluster-mode', 'observability'] },
  ],
];

describe('CI\'s EKS access (k8s/README.md, "CI access"; eks/ci-access.yaml)', { timeout: 120_000 }, () => {
  it.each(VARIANTS)('grants every right deploy-eks checks for %s', (_name, variant) => {
    const checks = rightsChecked(variant);
    expect(checks.length).toBeGreaterThan(20);
    const denied = checks.filter((check) => {
      const [verb, target, namespace] = check.split(' ') as [string, string, string];
      return !allowed(verb, target, namespace);
    });
    expect(denied).toEqual([]);
  });

  it('grants nothing cluster-wide but reads, and changes nothing outside the app namespace', () => {
    const clusterWide = groupRules('-');
    expect(clusterWide.flatMap((rule) => rule.verbs).filter((verb) => !['get', 'list'].includes(verb))).toEqual([]);
    const kubeSystem = rbac.filter((object) => object.metadata.namespace === 'kube-system').flatMap((object) => object.rules ?? []);
    expect(kubeSystem.flatMap((rule) => rule.verbs).filter((verb) => verb !== 'get')).toEqual([]);
    for (const rule of kubeSystem) expect(rule.resourceNames?.length).toBeGreaterThan(0);
    // Not even a read of another namespace's Secrets, nor any right on RBAC itself.
    expect(allowed('get', 'secrets', 'kube-system')).toBe(false);
    expect(allowed('list', 'secrets', '-')).toBe(false);
    expect(rbac.flatMap((object) => object.rules ?? []).filter((rule) => rule.apiGroups.includes('rbac.authorization.k8s.io'))).toEqual([]);
    expect(
      rbac
        .filter((object) => object.kind === 'Role')
        .map((object) => object.metadata.namespace)
        .sort(),
    ).toEqual(['fibstack', 'kube-system']);
  });

  it('documents the access entry: the group, AmazonEKSEditPolicy on the namespace only, never cluster admin', () => {
    const section = README.slice(README.indexOf('## CI access'), README.indexOf('\n## ', README.indexOf('## CI access') + 1));
    expect(section).toContain(`--kubernetes-groups ${GROUP}`);
    expect(section).toContain(
      '--policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy --access-scope type=namespace,namespaces=fibstack',
    );
    expect(section).toContain('kubectl apply -f eks/ci-access.yaml');
    expect([...section.matchAll(/--policy-arn (\S+)/g)].map((match) => match[1])).toEqual([
      'arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy',
    ]);
    expect(README).not.toMatch(/AmazonEKSClusterAdminPolicy|AmazonEKSAdminPolicy|type=cluster/);
  });
});
