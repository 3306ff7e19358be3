import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DLM_POLICY_DETAILS_SCHEMA, EKSCTL_CLUSTER_CONFIG_SCHEMA } from './eks-cluster-schema.js';
import { loadManifests } from '../support/k8s-manifests.js';
import { REPO } from '../support/kustomize-render.js';

/**
 * The cluster as code: eks/cluster.yaml (an eksctl ClusterConfig), eks/backup-snapshots.json (the
 * Data Lifecycle Manager policy of the backup volume) and scripts/eks-cluster, which makes them. No
 * AWS account can be reached here: the files are checked against the schemas of eksctl and of the
 * DLM API (eks-cluster-schema.ts), against what the manifests rely on, and the script is run with
 * test doubles of eksctl, aws, kubectl and helm that record what they were asked.
 */
interface Addon {
  name: string;
  version?: string;
  configurationValues?: string;
  useDefaultPodIdentityAssociations?: boolean;
}
interface NodeGroup {
  name: string;
  instanceTypes: string[];
  availabilityZones: string[];
  minSize: number;
  updateConfig?: { maxUnavailable?: number };
}
interface ClusterConfig {
  metadata: { name: string; region: string; version: string };
  availabilityZones: string[];
  addons: Addon[];
  iam: { podIdentityAssociations: Array<{ namespace: string; serviceAccountName: string; wellKnownPolicies?: Record<string, boolean> }> };
  managedNodeGroups: NodeGroup[];
}

const configText = readFileSync(join(REPO, 'eks/cluster.yaml'), 'utf8');
const config = parse(configText) as ClusterConfig;
const snapshots = JSON.parse(readFileSync(join(REPO, 'eks/backup-snapshots.json'), 'utf8')) as {
  TargetTags: Array<{ Key: string; Value: string }>;
  Schedules: Array<{
    CreateRule: { Interval: number; IntervalUnit: string; Times: string[] };
    RetainRule: { Interval: number; IntervalUnit: string };
  }>;
};
const ajv = new Ajv({ allErrors: true });
const validateCluster = ajv.compile(EKSCTL_CLUSTER_CONFIG_SCHEMA);
const validateSnapshots = ajv.compile(DLM_POLICY_DETAILS_SCHEMA);
const errors = (validate: typeof validateCluster, value: unknown) =>
  validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`);
const addon = (name: string) => config.addons.find((candidate) => candidate.name === name);

describe('eks/cluster.yaml, against eksctl’s ClusterConfig schema', () => {
  it('is valid: every field one eksctl knows, of its type', () => {
    expect(errors(validateCluster, config)).toEqual([]);
  });

  it.each([
    ['an unknown field', { ...config, addOns: [] }, /must NOT have additional properties.*addOns/],
    ['a misspelt add-on field', { ...config, addons: [{ name: 'vpc-cni', configValues: '{}' }] }, /configValues/],
    ['a NAT mode eksctl lacks', { ...config, vpc: { nat: { gateway: 'Multiple' } } }, /allowed values/],
    ['a string where a number goes', { ...config, managedNodeGroups: [{ name: 'x', minSize: '2' }] }, /must be integer/],
    ['no region', { ...config, metadata: { name: 'x' } }, /must have required property 'region'/],
    ['another kind', { ...config, kind: 'Cluster' }, /allowed values/],
  ])('refuses %s (the check can fail)', (_case, broken, reason) => {
    expect(errors(validateCluster, broken).join('\n')).toMatch(reason);
  });
});

describe('eks/cluster.yaml: what the manifests rely on', () => {
  it('two zones in the region, node groups on both, amd64 and Graviton (arm64)', () => {
    expect(config.availabilityZones).toHaveLength(2);
    for (const zone of config.availabilityZones) expect(zone.startsWith(config.metadata.region)).toBe(true);
    const arm = (type: string) => /^[a-z]+\d+g[a-z]*\./.test(type);
    const groups = config.managedNodeGroups;
    expect(groups.some((group) => group.instanceTypes.every((type) => !arm(type)))).toBe(true);
    expect(groups.some((group) => group.instanceTypes.every(arm))).toBe(true);
    for (const group of groups) {
      expect(group.availabilityZones.sort(), group.name).toEqual([...config.availabilityZones].sort());
      // A drain moves a store's pod within its zone (EBS): each zone keeps a node of each group.
      expect(group.minSize, group.name).toBeGreaterThanOrEqual(group.availabilityZones.length);
      expect(group.updateConfig?.maxUnavailable, group.name).toBe(1);
    }
  });

  it('the add-ons at pinned versions: the EBS CSI driver with a default gp3 class, network policies enforced, Pod Identity, metrics-server', () => {
    for (const { name, version } of config.addons) expect(version, name).toMatch(/^v\d+\.\d+\./);
    expect(JSON.parse(addon('aws-ebs-csi-driver')!.configurationValues!)).toEqual({ defaultStorageClass: { enabled: true } });
    expect(JSON.parse(addon('vpc-cni')!.configurationValues!)).toEqual({ enableNetworkPolicy: 'true' });
    for (const name of ['eks-pod-identity-agent', 'metrics-server', 'coredns', 'kube-proxy']) expect(addon(name), name).toBeDefined();
    for (const name of ['aws-ebs-csi-driver', 'vpc-cni']) expect(addon(name)!.useDefaultPodIdentityAssociations, name).toBe(true);
    expect(config.iam.podIdentityAssociations).toContainEqual(
      expect.objectContaining({
        namespace: 'kube-system',
        serviceAccountName: 'aws-load-balancer-controller',
        wellKnownPolicies: { awsLoadBalancerController: true },
      }),
    );
    expect(configText).not.toMatch(/withOIDC: true/);
  });

  it('the claims of k8s/ name no class: they bind through the add-on’s default one', () => {
    const claims = loadManifests()
      .map(({ object }) => object)
      .flatMap((object) =>
        object.kind === 'StatefulSet'
          ? (object.spec as { volumeClaimTemplates: Array<{ spec: object }> }).volumeClaimTemplates.map((claim) => claim.spec)
          : object.kind === 'PersistentVolumeClaim'
            ? [object.spec as object]
            : [],
      );
    expect(claims.length).toBe(3);
    for (const claim of claims) expect(claim).not.toHaveProperty('storageClassName');
  });

  it('every add-on deploy-eks checks for is one this cluster gets', () => {
    const plan = readFileSync(join(REPO, 'scripts/deploy-eks-plan.mjs'), 'utf8');
    const checked = [...plan.matchAll(/out\.add\('addon ([\w-]+)'\)/g)].map((match) => match[1]);
    expect(checked.sort()).toEqual(['aws-load-balancer-controller', 'metrics-server', 'network-policy-enforcement']);
    const script = readFileSync(join(REPO, 'scripts/eks-cluster'), 'utf8');
    expect(addon('metrics-server')).toBeDefined();
    expect(script).toMatch(/helm upgrade --install aws-load-balancer-controller /);
    expect(addon('vpc-cni')!.configurationValues).toContain('enableNetworkPolicy');
  });
});

describe('eks/backup-snapshots.json: the backup volume copied off the cluster', () => {
  it('is a valid DLM policy: daily EBS snapshots of the postgres-backups claim’s volume, kept 14 days', () => {
    expect(errors(validateSnapshots, snapshots)).toEqual([]);
    const claim = loadManifests().find(({ object }) => object.kind === 'PersistentVolumeClaim')!.object;
    // The EBS CSI driver tags each volume with the claim it was made for.
    expect(snapshots.TargetTags).toEqual([{ Key: 'kubernetes.io/created-for/pvc/name', Value: claim.metadata.name }]);
    const [schedule] = snapshots.Schedules;
    expect(schedule!.CreateRule).toMatchObject({ Interval: 24, IntervalUnit: 'HOURS' });
    expect(schedule!.RetainRule).toEqual({ Interval: 14, IntervalUnit: 'DAYS' });
  });

  it('snapshots after the nightly dump has had all its time (its schedule plus activeDeadlineSeconds)', () => {
    const cronJob = loadManifests().find(({ object }) => object.kind === 'CronJob')!.object;
    const spec = cronJob.spec as { schedule: string; timeZone: string; jobTemplate: { spec: { activeDeadlineSeconds: number } } };
    expect(spec.timeZone).toBe('Etc/UTC');
    const [minute, hour] = spec.schedule.split(' ').map(Number);
    const dumpDeadline = hour! * 60 + minute! + spec.jobTemplate.spec.activeDeadlineSeconds / 60;
    const [snapshotHour, snapshotMinute] = snapshots.Schedules[0]!.CreateRule.Times[0]!.split(':').map(Number);
    expect(snapshotHour! * 60 + snapshotMinute!).toBeGreaterThan(dumpDeadline);
  });

  it.each([
    [
      'a retention unit DLM lacks',
      { ...snapshots, Schedules: [{ ...snapshots.Schedules[0], RetainRule: { Interval: 14, IntervalUnit: 'HOURS' } }] },
    ],
    [
      'a time DLM cannot read',
      { ...snapshots, Schedules: [{ ...snapshots.Schedules[0], CreateRule: { Interval: 24, IntervalUnit: 'HOURS', Times: ['4:45'] } }] },
    ],
    ['an unknown field', { ...snapshots, TargetTag: [] }],
  ])('refuses %s (the check can fail)', (_case, broken) => {
    expect(errors(validateSnapshots, broken)).not.toEqual([]);
  });
});

describe('scripts/eks-cluster create', { timeout: 60_000 }, () => {
  const bin = mkdtempSync(join(tmpdir(), 'eks-cluster-test-'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const log = join(bin, 'calls.log');
  for (const tool of ['eksctl', 'aws', 'kubectl', 'helm']) {
    writeFileSync(
      join(bin, tool),
      `#!/bin/bash
echo "${tool} $*" >> "${log}"
case "${tool} $*" in
  "eksctl get cluster"*) [ -n "$EXISTS" ] ;;
  "aws eks describe-cluster"*) echo vpc-0123 ;;
  "aws sts get-caller-identity"*) echo 123456789012 ;;
  "aws dlm get-lifecycle-policies"*) [ -n "$EXISTS" ] && echo policy-0abc ;;
  "helm "*"keda"*) [ -z "$HELM_FAILS" ] ;;
esac
`,
    );
    chmodSync(join(bin, tool), 0o755);
  }
  const run = (env: Record<string, string> = {}) => {
    rmSync(log, { force: true });
    const result = spawnSync(join(REPO, 'scripts/eks-cluster'), ['create'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, EXISTS: '', HELM_FAILS: '', ...env },
    });
    const calls = readFileSync(log, 'utf8').trim().split('\n');
    return { ...result, calls };
  };

  it('makes the cluster from eks/cluster.yaml, then the Gateway API, the controller and KEDA at pinned versions, then the snapshots', () => {
    const { status, calls, stderr } = run();
    expect(status, stderr).toBe(0);
    const at = (prefix: string) => calls.findIndex((call) => call.startsWith(prefix));
    expect(calls).toContain('aws ec2 enable-ebs-encryption-by-default --region eu-west-1');
    expect(calls).toContain(`eksctl create cluster -f ${join(REPO, 'eks/cluster.yaml')}`);
    expect(at('aws ec2 enable-ebs-encryption-by-default')).toBeLessThan(at('eksctl create cluster'));
    const gatewayCrds = calls.find((call) => call.includes('gateway-api/releases/download/'))!;
    expect(gatewayCrds).toMatch(/download\/v\d+\.\d+\.\d+\/standard-install\.yaml$/);
    const controller = calls.find((call) => call.startsWith('helm upgrade --install aws-load-balancer-controller'))!;
    expect(controller).toMatch(/--version \d+\.\d+\.\d+ /);
    expect(controller).toContain('--set clusterName=fibstack --set region=eu-west-1 --set vpcId=vpc-0123');
    expect(controller).toContain('--set serviceAccount.create=false --set serviceAccount.name=aws-load-balancer-controller');
    expect(calls.find((call) => call.startsWith('helm upgrade --install keda'))).toMatch(/--version \d+\.\d+\.\d+ /);
    expect(at('eksctl create cluster')).toBeLessThan(at('helm upgrade --install aws-load-balancer-controller'));
    const policy = calls.find((call) => call.startsWith('aws dlm create-lifecycle-policy'))!;
    expect(policy).toContain('--execution-role-arn arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRole');
    expect(policy).toContain(`--policy-details file://${join(REPO, 'eks/backup-snapshots.json')}`);
  });

  it('run again on an existing cluster, updates its add-ons and keeps the one snapshot policy', () => {
    const { status, calls } = run({ EXISTS: '1' });
    expect(status).toBe(0);
    expect(calls).toContain(`eksctl update addon -f ${join(REPO, 'eks/cluster.yaml')}`);
    expect(calls.some((call) => call.startsWith('eksctl create'))).toBe(false);
    expect(calls.some((call) => call.startsWith('aws dlm create-lifecycle-policy'))).toBe(false);
  });

  it('stops at the first failing step', () => {
    const { status, calls } = run({ HELM_FAILS: '1' });
    expect(status).not.toBe(0);
    expect(calls.at(-1)).toMatch(/^helm upgrade --install keda/);
  });

  it('refuses anything but create', () => {
    const result = spawnSync(join(REPO, 'scripts/eks-cluster'), [], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('usage: scripts/eks-cluster create');
  });

  it('reads the cluster’s name and region from eks/cluster.yaml, the file eksctl reads', () => {
    expect(run().calls).toContain(`aws eks update-kubeconfig --name ${config.metadata.name} --region ${config.metadata.region}`);
  });
});
