import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseObjects } from './render.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/deploy-eks', import.meta.url));
const REAL_KUBECTL = execFileSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();

/**
 * scripts/deploy-eks against test doubles of the two external CLIs (no cluster exists here): `aws`
 * records its calls; `kubectl` records its calls, renders with the real `kubectl kustomize`, keeps
 * what `apply` received, and answers the cluster queries as the test sets up (missing CSI driver,
 * Secret or key, failing rollouts, revision counts, the load balancer's address).
 */
const bin = mkdtempSync(join(tmpdir(), 'deploy-eks-test-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const log = join(bin, 'calls.log');
const applied = join(bin, 'applied.yaml');
writeFileSync(join(bin, 'aws'), `#!/bin/sh\necho "aws $*" >> "${log}"\n`);
writeFileSync(
  join(bin, 'kubectl'),
  `#!/bin/bash
case "$1" in
  kustomize) echo "kubectl kustomize" >> "${log}"; exec "${REAL_KUBECTL}" "$@" ;;
  apply) echo "kubectl $*" >> "${log}"; for arg; do [ -f "$arg" ] && cp "$arg" "${applied}"; done; [ -z "$APPLY_FAILS" ] ;;
esac
echo "kubectl $*" >> "${log}"
case "$*" in
  "get --raw=/readyz"*) [ -z "$UNREACHABLE" ] ;;
  "get csidriver "*) [ -z "$NO_CSI" ] ;;
  "get crd "*) [ -z "$NO_CRDS" ] ;;
  *"get secret fibstack-secrets -o jsonpath={.data.POSTGRES_PASSWORD}") [ -z "$NO_SECRET" ] && echo c2VjcmV0 ;;
  *"get secret fibstack-secrets -o jsonpath={.data."*) [ -z "$NO_SECRET" ] && [ -n "$EXTRA_KEYS" ] && echo dmFsdWU= ;;
  *"get configmap "*) [ -n "$EXTRA_KEYS" ] ;;
  *"rollout status "*) for failing in $FAIL; do [[ "$*" == *"rollout status $failing "* ]] && { [ -f "${bin}/undone-\${failing//\\//-}" ] && exit 0; [ -n "$HANG" ] && sleep "\${ROLLOUT_TIMEOUT%s}"; exit 1; }; done; exit 0 ;;
  *"get horizontalpodautoscaler "*) [[ " $CLUSTER_HPAS " == *" \${@: -1} "* ]] ;;
  *"rollout undo "*) touch "${bin}/undone-\${3//\\//-}" ;;
  *"rollout history "*) echo "REVISION  CHANGE-CAUSE"; seq "$REVISIONS" | sed 's/$/  <none>/' ;;
  *"jsonpath={.spec.type}") echo LoadBalancer ;;
  *"jsonpath={.status.loadBalancer"*) echo k8s-fibstack-edge-0123.elb.eu-west-1.amazonaws.com ;;
esac
`,
);
chmodSync(join(bin, 'aws'), 0o755);
chmodSync(join(bin, 'kubectl'), 0o755);

function deploy(env: Record<string, string>) {
  for (const file of [log, applied]) rmSync(file, { force: true });
  execFileSync('bash', ['-c', `rm -f ${bin}/undone-*`]);
  const result = spawnSync(SCRIPT, [], {
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      EKS_CLUSTER: 'fib',
      EKS_REGION: '',
      EB_REGION: 'eu-west-1',
      IMAGE_REGISTRY: 'acme',
      TRAVIS_COMMIT: 'abc123',
      EKS_OVERLAY: '',
      EKS_COMPONENTS: '',
      UNREACHABLE: '',
      NO_CSI: '',
      NO_CRDS: '',
      NO_SECRET: '',
      EXTRA_KEYS: '',
      FAIL: '',
      HANG: '',
      APPLY_FAILS: '',
      CLUSTER_HPAS: '',
      ROLLOUT_TIMEOUT: '',
      PROGRESS_INTERVAL: '',
      REVISIONS: '3',
      ...env,
    },
    encoding: 'utf8',
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  const objects = existsSync(applied) ? parseObjects(readFileSync(applied, 'utf8')) : [];
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls, objects };
}

const workloads = [
  'statefulset/postgres',
  'statefulset/redis',
  'deployment/client',
  'deployment/edge',
  'deployment/server',
  'deployment/worker',
];
const waits = workloads.map((workload) => `kubectl -n fibstack rollout status ${workload} --timeout=10m`);

describe('scripts/deploy-eks', { timeout: 60_000 }, () => {
  it('checks the cluster, applies the overlay once with the commit images, waits for every rollout, prints the URL', () => {
    const { status, stdout, calls, objects } = deploy({});
    expect(status).toBe(0);
    expect(calls).toEqual([
      'kubectl kustomize',
      'aws eks update-kubeconfig --name fib --region eu-west-1',
      'kubectl get --raw=/readyz --request-timeout=20s',
      'kubectl -n fibstack get secret fibstack-secrets -o jsonpath={.data.POSTGRES_PASSWORD}',
      'kubectl get csidriver ebs.csi.aws.com',
      'kubectl apply -f',
      ...waits,
      'kubectl -n fibstack get service edge -o jsonpath={.spec.type}',
      'kubectl -n fibstack get service edge -o jsonpath={.status.loadBalancer.ingress[0].hostname}{.status.loadBalancer.ingress[0].ip}',
      'kubectl -n fibstack get service edge -o jsonpath={.spec.ports[?(@.port==443)].name}',
    ]);
    expect(calls.filter((call) => call.startsWith('kubectl apply'))).toHaveLength(1);
    expect(calls.some((call) => / set image | patch | edit | rollout restart /.test(call))).toBe(false);
    expect(stdout).toContain('the app is at http://k8s-fibstack-edge-0123.elb.eu-west-1.amazonaws.com');
    const images = objects.flatMap((object) => JSON.stringify(object).match(/"image":"[^"]+"/g) ?? []);
    const own = [...new Set(images.filter((image) => image.includes('fibstack-')))].sort();
    expect(own).toEqual(['client', 'nginx', 'server', 'worker'].map((service) => `"image":"acme/fibstack-${service}:abc123"`));
  });

  it('deploys to an ECR registry, other overlays and components as told', () => {
    const { status, calls, objects } = deploy({
      IMAGE_REGISTRY: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      IMAGE_TAG: 'deadbeef',
      EKS_COMPONENTS: 'keda-autoscaling',
    });
    expect(status).toBe(0);
    expect(JSON.stringify(objects)).toContain('"image":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/fibstack-server:deadbeef"');
    expect(objects.some((object) => object.kind === 'ScaledObject')).toBe(true);
    expect(calls).toContain('kubectl get crd scaledobjects.keda.sh');
  });

  it('gives components the deployed images: observability reports the commit as the service version', () => {
    const { status, calls, objects } = deploy({ IMAGE_TAG: 'deadbeef', EKS_COMPONENTS: 'observability' });
    expect(status).toBe(0);
    for (const name of ['server', 'worker']) {
      const deployment = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === name)!;
      const env = (deployment.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } })
        .template.spec.containers[0]!.env;
      expect(env.find((variable) => variable.name === 'FIBSTACK_VERSION')?.value, name).toBe('deadbeef');
    }
    for (const crd of ['servicemonitors', 'podmonitors', 'prometheusrules'])
      expect(calls).toContain(`kubectl get crd ${crd}.monitoring.coreos.com`);
  });

  it('says exactly what is missing, and applies nothing, when the cluster is not ready', () => {
    const unreachable = deploy({ UNREACHABLE: '1' });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach the API server of EKS cluster fib (eu-west-1)');
    expect(unreachable.stderr).toContain('EKS access entry');
    const { status, stderr, calls } = deploy({ NO_CSI: '1', NO_SECRET: '1' });
    expect(status).toBe(1);
    expect(stderr).toContain(
      'the EBS CSI driver (ebs.csi.aws.com) is not installed: aws eks create-addon --cluster-name fib --addon-name aws-ebs-csi-driver',
    );
    expect(stderr).toContain(
      'the Secret fibstack-secrets has no key POSTGRES_PASSWORD: kubectl create namespace fibstack; kubectl -n fibstack create secret generic fibstack-secrets --from-literal=POSTGRES_PASSWORD=',
    );
    for (const run of [unreachable.calls, calls]) expect(run.filter((call) => call.startsWith('kubectl apply'))).toEqual([]);
    const keda = deploy({ EKS_COMPONENTS: 'keda-autoscaling', NO_CRDS: '1' });
    expect(keda.stderr).toContain('the CRD scaledobjects.keda.sh is not installed');
  });

  it('refuses the committed managed-data overlay until its RDS endpoint is filled in', () => {
    const { status, stderr, calls } = deploy({ EKS_OVERLAY: 'kustomize/overlays/eks-managed-data' });
    expect(status).toBe(1);
    expect(stderr).toContain('the manifests still hold placeholders');
    expect(stderr).toContain('REPLACE_ME.rds.amazonaws.com');
    // The subnets of RDS and ElastiCache have no working-looking default: they must be filled in.
    expect(stderr).toMatch(/POSTGRES_CIDR/);
    expect(stderr).toMatch(/REDIS_CIDR/);
    expect(calls).toEqual(['kubectl kustomize']);
  });

  it('with managed data (endpoint filled in), checks for the ElastiCache URL and the RDS CA bundle, not for EBS', () => {
    const overlay = mkdtempSync(join(tmpdir(), 'deploy-eks-overlay-'));
    try {
      const base = relative(overlay, fileURLToPath(new URL('../../kustomize/overlays/eks-managed-data', import.meta.url)));
      writeFileSync(
        join(overlay, 'kustomization.yaml'),
        stringify({
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          resources: [base],
          configMapGenerator: [
            {
              name: 'fibstack-config',
              namespace: 'fibstack',
              behavior: 'merge',
              literals: [
                'DATABASE_URL=postgres://fibstack@db.example.internal:5432/fibstack?sslmode=verify-full&sslrootcert=/etc/ssl/rds/global-bundle.pem',
              ],
            },
          ],
        }),
      );
      const missing = deploy({ EKS_OVERLAY: overlay });
      expect(missing.status).toBe(1);
      expect(missing.stderr).toContain('the Secret fibstack-secrets has no key REDIS_URL');
      expect(missing.stderr).toContain('the ConfigMap rds-ca-bundle is missing');
      expect(missing.calls.some((call) => call.includes('csidriver'))).toBe(false);
      const ready = deploy({ EKS_OVERLAY: overlay, EXTRA_KEYS: '1' });
      expect(ready.status).toBe(0);
      expect(ready.objects.some((object) => object.kind === 'StatefulSet')).toBe(false);
      expect(ready.calls.filter((call) => call.includes('rollout status'))).toEqual(waits.filter((wait) => wait.includes('deployment/')));
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });

  it('refuses the placeholder ACM certificate of nlb-tls', () => {
    const { status, stderr, calls } = deploy({ EKS_COMPONENTS: 'nlb-tls' });
    expect(status).toBe(1);
    expect(stderr).toContain('certificate/REPLACE_ME');
    expect(calls).toEqual(['kubectl kustomize']);
  });

  it('rolls back a Deployment that does not become ready, waits for the rollback and for the others, and fails', () => {
    const { status, stderr, calls } = deploy({ FAIL: 'deployment/worker' });
    expect(status).toBe(1);
    const afterApply = calls.slice(calls.indexOf('kubectl apply -f') + 1);
    expect(afterApply).toEqual([
      ...waits,
      'kubectl -n fibstack rollout history deployment/worker',
      'kubectl -n fibstack rollout undo deployment/worker',
      'kubectl -n fibstack rollout status deployment/worker --timeout=10m',
    ]);
    expect(stderr).toContain('failed: deployment/worker');
  });

  it('does not roll back the first release of a Deployment: there is nothing before it', () => {
    const { status, stderr, calls } = deploy({ FAIL: 'deployment/server', REVISIONS: '1' });
    expect(status).toBe(1);
    expect(calls.filter((call) => call.includes('rollout undo'))).toEqual([]);
    expect(stderr).toContain('deployment/server: no earlier release to roll back to');
  });

  it("waits for a stuck rollout printing progress, gives up within its timeout (under the 10 silent minutes a CI allows) and awaits the undo", () => {
    const { status, stdout, stderr, calls } = deploy({ FAIL: 'deployment/worker', HANG: '1', ROLLOUT_TIMEOUT: '3s', PROGRESS_INTERVAL: '1' });
    expect(status).toBe(1);
    const progress = (stdout + stderr).split('\n').filter((line) => /still waiting for deployment\/worker/.test(line));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    const afterApply = calls.slice(calls.findIndex((call) => call.startsWith('kubectl apply')) + 1);
    expect(afterApply.slice(-3)).toEqual([
      'kubectl -n fibstack rollout history deployment/worker',
      'kubectl -n fibstack rollout undo deployment/worker',
      'kubectl -n fibstack rollout status deployment/worker --timeout=3s',
    ]);
    expect(stderr).toContain('deployment/worker: rolled back to the previous release');
    expect(stderr).toContain('failed: deployment/worker');
  });

  it('by default gives each rollout less than the 10 minutes a CI allows without output', () => {
    const { calls } = deploy({});
    const timeouts = calls.flatMap((call) => /--timeout=(\d+)([smh])/.exec(call) ?? []).length;
    expect(timeouts).toBeGreaterThan(0);
    for (const call of calls.filter((line) => line.includes('rollout status'))) {
      const [, amount, unit] = /--timeout=(\d+)([smh])/.exec(call)!;
      expect(Number(amount) * { s: 1, m: 60, h: 3600 }[unit as 's' | 'm' | 'h']!, call).toBeLessThan(600);
    }
  });

  it('adding KEDA removes the CPU HPA it replaces before applying the ScaledObject, and prunes what a component no longer renders', () => {
    const { status, calls } = deploy({ EKS_COMPONENTS: 'keda-autoscaling', CLUSTER_HPAS: 'server worker' });
    expect(status).toBe(0);
    const apply = calls.findIndex((call) => call.startsWith('kubectl apply'));
    expect(calls.indexOf('kubectl -n fibstack delete horizontalpodautoscaler worker --ignore-not-found')).toBeGreaterThan(-1);
    expect(calls.indexOf('kubectl -n fibstack delete horizontalpodautoscaler worker --ignore-not-found')).toBeLessThan(apply);
    expect(calls.some((call) => call.includes('delete horizontalpodautoscaler server'))).toBe(false);
    expect(calls[apply]).toMatch(/--prune -l app.kubernetes.io\/part-of=fibstack/);
    for (const kind of ['autoscaling/v2/HorizontalPodAutoscaler', 'keda.sh/v1alpha1/ScaledObject', 'networking.k8s.io/v1/NetworkPolicy'])
      expect(calls[apply]).toContain(`--prune-allowlist=${kind}`);
  });

  it('when the apply fails part-way, still waits for the rollouts it started and rolls back, then fails', () => {
    const { status, stderr, calls } = deploy({ APPLY_FAILS: '1', FAIL: 'deployment/server' });
    expect(status).toBe(1);
    expect(calls).toContain('kubectl -n fibstack rollout undo deployment/server');
    expect(stderr).toContain('kubectl apply failed');
  });

  it('refuses to run without its settings', () => {
    expect(deploy({ IMAGE_REGISTRY: '' })).toMatchObject({ status: 1, calls: [] });
    expect(deploy({ EB_REGION: '' }).stderr).toContain('set EKS_REGION or EB_REGION');
    expect(deploy({ EKS_OVERLAY: 'kustomize/overlays/nope' }).stderr).toContain('no overlay at');
  });
});
