import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFilledIn, parseObjects, REPO } from '../support/kustomize-render.js';
import { SERVICES, startSignedRelease, type SignedRelease } from '../support/signed-release.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/deploy-eks', import.meta.url));
const REAL_KUBECTL = execFileSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();

/**
 * scripts/deploy-eks against test doubles of the two external CLIs (no cluster exists here): `aws`
 * records its calls; `kubectl` records its calls, renders with the real `kubectl kustomize`, keeps
 * what `apply` received, and answers the cluster queries as the test sets up (rights the identity lacks,
 * missing add-ons, CRDs, cluster-wide objects, Secret keys, autoscalers left by an earlier deploy, failing or
 * hanging rollouts, revision counts, the load balancer's address). The release's images are real: in a
 * registry on this machine, signed with the operator's key, and the script verifies them itself.
 */
const bin = mkdtempSync(join(tmpdir(), 'deploy-eks-test-'));
const log = join(bin, 'calls.log');
const applied = join(bin, 'applied.yaml');
writeFileSync(join(bin, 'aws'), `#!/bin/sh\necho "aws $*" >> "${log}"\n`);
writeFileSync(
  join(bin, 'kubectl'),
  `#!/bin/bash
case "$1" in
  kustomize) echo "kubectl kustomize" >> "${log}"; exec "${REAL_KUBECTL}" "$@" ;;
  apply)
    echo "kubectl $*" | sed 's#-f [^ ]*/namespaced.yaml#-f namespaced.yaml#' >> "${log}"
    for arg; do [ -f "$arg" ] && cp "$arg" "${applied}"; done
    [ -z "$APPLY_FAILS" ] || { echo 'Error from server: admission webhook denied the request' >&2; exit 1; }
    exit 0 ;;
esac
echo "kubectl $*" >> "${log}"
case "$*" in
  "auth can-i "*)
    # DENIED: "verb resource;…" this identity may not do.
    IFS=';' read -r -a denied <<<"$DENIED"
    for right in "\${denied[@]}"; do [[ "$*" == "auth can-i $right "* ]] && exit 1; done
    exit 0 ;;
  "get --raw=/readyz"*) [ -z "$UNREACHABLE" ] ;;
  "get csidriver "*) [ -z "$NO_CSI" ] ;;
  "get crd "*) [ -z "$NO_CRDS" ] ;;
  "get namespaces fibstack"|"get storageclasses.storage.k8s.io fibstack-gp3"|"get gatewayclasses.gateway.networking.k8s.io fibstack") [ -z "$NO_CLUSTER_OBJECTS" ] ;;
  "get storageclass "*) [ -n "$NO_DEFAULT_SC" ] || echo ebs-csi-default-sc ;;
  "get apiservice v1beta1.metrics.k8s.io "*) [ -n "$NO_METRICS" ] || echo True ;;
  "-n kube-system get deployment aws-load-balancer-controller "*) [ -n "$NO_LBC" ] || echo 2 ;;
  "-n kube-system get daemonset aws-node "*) [ -n "$NO_NETPOL" ] && echo '["--enable-network-policy=false"]' || echo '["--enable-ipv6=false","--enable-network-policy=true"]' ;;
  *"get secret fibstack-secrets -o jsonpath={.data.POSTGRES_PASSWORD}"|*"get secret fibstack-secrets -o jsonpath={.data.REDIS_PASSWORD}") [ -z "$NO_SECRET" ] && echo c2VjcmV0 ;;
  *"get secret fibstack-secrets -o jsonpath={.data."*) [ -z "$NO_SECRET" ] && [ -n "$EXTRA_KEYS" ] && echo dmFsdWU= ;;
  *"get configmap "*) [ -n "$EXTRA_KEYS" ] ;;
  *"get horizontalpodautoscaler "*) [[ " $CLUSTER_HPAS " == *" \${@: -1} "* ]] ;;
  *"get scaledobject.keda.sh "*) [[ " $CLUSTER_SCALEDOBJECTS " == *" \${@: -1} "* ]] ;;
  *"rollout status "*)
    for failing in $FAIL; do
      if [[ "$*" == *"rollout status $failing "* ]]; then
        [ -f "${bin}/undone-\${failing//\\//-}" ] && exit 0
        [ -n "$HANG" ] && sleep "\${ROLLOUT_TIMEOUT%s}"
        echo "error: timed out waiting for the condition"; exit 1
      fi
    done
    exit 0 ;;
  *"rollout undo "*) touch "${bin}/undone-\${5//\\//-}" ;;
  *"rollout history "*) echo "REVISION  CHANGE-CAUSE"; seq "$REVISIONS" | sed 's/$/  <none>/' ;;
  *"jsonpath={.spec.type}") echo LoadBalancer ;;
  *"jsonpath={.status.loadBalancer"*) echo k8s-fibstack-edge-0123.elb.eu-west-1.amazonaws.com ;;
esac
`,
);
chmodSync(join(bin, 'aws'), 0o755);
chmodSync(join(bin, 'kubectl'), 0o755);

/**
 * A checkout whose operator filled in the placeholders (endpoints, subnets, the Gateway's proxies) and added
 * their public key: a copy of k8s/, kustomize/ and scripts/ with the values written in (removed after the tests).
 */
const filledIn = join(bin, 'repo');
copyFilledIn(filledIn);
cpSync(join(REPO, 'scripts'), join(filledIn, 'scripts'), { recursive: true });
symlinkSync(join(REPO, 'node_modules'), join(filledIn, 'node_modules'));
const FILLED_IN_SCRIPT = join(filledIn, 'scripts/deploy-eks');

let release: SignedRelease;
beforeAll(async () => {
  release = await startSignedRelease();
});
afterAll(async () => {
  await release?.stop();
  rmSync(bin, { recursive: true, force: true });
});

/** Runs a deploy: the operator's checkout and the signed release unless told otherwise. */
function deploy(env: Record<string, string>, script = FILLED_IN_SCRIPT) {
  for (const file of [log, applied]) rmSync(file, { force: true });
  execFileSync('bash', ['-c', `rm -f ${bin}/undone-*`]);
  const result = spawnSync(script, [], {
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      EKS_CLUSTER: 'fib',
      EKS_REGION: '',
      EB_REGION: 'eu-west-1',
      IMAGES: release.imagesFile('images.json'),
      IMAGE_REGISTRY: '',
      IMAGE_TAG: '',
      EKS_OVERLAY: '',
      EKS_COMPONENTS: '',
      UNREACHABLE: '',
      NO_CSI: '',
      NO_CRDS: '',
      NO_SECRET: '',
      NO_DEFAULT_SC: '',
      NO_METRICS: '',
      NO_LBC: '',
      NO_NETPOL: '',
      NO_CLUSTER_OBJECTS: '',
      DENIED: '',
      CLUSTER_SCALEDOBJECTS: '',
      IMAGE_DIGESTS: '',
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
const waits = (timeout = '8m') => workloads.map((workload) => `kubectl -n fibstack rollout status ${workload} --timeout=${timeout}`);
/** The calls between two markers, sorted where the script makes them at once (the rollout waits). */
const sorted = (calls: string[]) => [...calls].sort();
const PRUNE =
  '--prune -l app.kubernetes.io/part-of=fibstack --prune-allowlist=v1/ServiceAccount --prune-allowlist=autoscaling/v2/HorizontalPodAutoscaler ' +
  '--prune-allowlist=policy/v1/PodDisruptionBudget --prune-allowlist=networking.k8s.io/v1/NetworkPolicy';
const CRDS_PRUNED = [
  'keda.sh/v1alpha1/ScaledObject scaledobjects.keda.sh',
  'keda.sh/v1alpha1/TriggerAuthentication triggerauthentications.keda.sh',
  'gateway.networking.k8s.io/v1/Gateway gateways.gateway.networking.k8s.io',
  'gateway.networking.k8s.io/v1/HTTPRoute httproutes.gateway.networking.k8s.io',
  'gateway.k8s.aws/v1/LoadBalancerConfiguration loadbalancerconfigurations.gateway.k8s.aws',
  'gateway.k8s.aws/v1/TargetGroupConfiguration targetgroupconfigurations.gateway.k8s.aws',
  'monitoring.coreos.com/v1/ServiceMonitor servicemonitors.monitoring.coreos.com',
  'monitoring.coreos.com/v1/PodMonitor podmonitors.monitoring.coreos.com',
  'monitoring.coreos.com/v1/PrometheusRule prometheusrules.monitoring.coreos.com',
  'kyverno.io/v1/Policy policies.kyverno.io',
].map((line) => line.split(' ') as [string, string]);
const isRightCheck = (call: string) => call.startsWith('kubectl auth can-i ');

describe('scripts/deploy-eks', { timeout: 60_000 }, () => {
  it('checks the rights, the cluster and its add-ons, applies the overlay once with the signed digests, waits for every rollout, prints the URL', () => {
    const { status, stdout, stderr, calls, objects } = deploy({});
    expect(status, stderr).toBe(0);
    const apply = calls.findIndex((call) => call.startsWith('kubectl apply'));
    expect(calls.slice(0, 3)).toEqual([
      'kubectl kustomize',
      'aws eks update-kubeconfig --name fib --region eu-west-1',
      'kubectl get --raw=/readyz --request-timeout=20s',
    ]);
    // Verified before the cluster was touched.
    expect(stderr).toContain(`verified server ${release.refs.server}`);
    // Then every right the deploy uses, before any of the cluster checks.
    const rights = calls.slice(3).filter(isRightCheck);
    const firstCheck = calls.findIndex((call, i) => i >= 3 && !isRightCheck(call));
    expect(calls.slice(3, firstCheck)).toEqual(rights);
    expect(rights).toEqual(
      expect.arrayContaining([
        'kubectl auth can-i patch deployments.apps -n fibstack --quiet',
        'kubectl auth can-i create statefulsets.apps -n fibstack --quiet',
        'kubectl auth can-i delete networkpolicies.networking.k8s.io -n fibstack --quiet',
        'kubectl auth can-i list replicasets.apps -n fibstack --quiet',
        'kubectl auth can-i get secrets/fibstack-secrets -n fibstack --quiet',
        'kubectl auth can-i get customresourcedefinitions.apiextensions.k8s.io/scaledobjects.keda.sh --quiet',
        'kubectl auth can-i get deployments.apps/aws-load-balancer-controller -n kube-system --quiet',
        'kubectl auth can-i get storageclasses.storage.k8s.io/fibstack-gp3 --quiet',
      ]),
    );
    // Never a right to create or change a cluster-wide object.
    expect(rights.filter((call) => / (create|patch|delete) /.test(call) && !call.includes('-n fibstack'))).toEqual([]);
    // Before the apply: the cluster-wide objects, every add-on the objects rely on, the Secret keys, then the
    // kinds that can be pruned.
    expect(sorted(calls.slice(firstCheck, apply))).toEqual(
      sorted([
        'kubectl get namespaces fibstack',
        'kubectl get storageclasses.storage.k8s.io fibstack-gp3',
        'kubectl -n fibstack get secret fibstack-secrets -o jsonpath={.data.POSTGRES_PASSWORD}',
        'kubectl -n fibstack get secret fibstack-secrets -o jsonpath={.data.REDIS_PASSWORD}',
        'kubectl get csidriver ebs.csi.aws.com',
        // A ScaledObject of an earlier deploy would fight the CPU HPAs: looked for, none there.
        'kubectl -n fibstack get scaledobject.keda.sh server',
        'kubectl -n fibstack get scaledobject.keda.sh worker',
        'kubectl get apiservice v1beta1.metrics.k8s.io -o jsonpath={.status.conditions[?(@.type=="Available")].status}',
        'kubectl -n kube-system get deployment aws-load-balancer-controller -o jsonpath={.status.availableReplicas}',
        'kubectl -n kube-system get daemonset aws-node -o jsonpath={.spec.template.spec.containers[*].args}',
        ...CRDS_PRUNED.map(([, crd]) => `kubectl get crd ${crd}`),
      ]),
    );
    expect(calls[apply]).toBe(
      `kubectl apply ${PRUNE} ${CRDS_PRUNED.map(([kind]) => `--prune-allowlist=${kind}`).join(' ')} -f namespaced.yaml`,
    );
    expect(sorted(calls.slice(apply + 1, apply + 7))).toEqual(sorted(waits()));
    expect(calls.slice(apply + 7)).toEqual([
      'kubectl -n fibstack get service edge -o jsonpath={.spec.type}',
      'kubectl -n fibstack get service edge -o jsonpath={.status.loadBalancer.ingress[0].hostname}{.status.loadBalancer.ingress[0].ip}',
      'kubectl -n fibstack get service edge -o jsonpath={.spec.ports[?(@.port==443)].name}',
    ]);
    expect(calls.filter((call) => call.startsWith('kubectl apply'))).toHaveLength(1);
    expect(calls.some((call) => !isRightCheck(call) && / set image | patch | edit | rollout restart /.test(call))).toBe(false);
    expect(stdout).toContain('the app is at http://k8s-fibstack-edge-0123.elb.eu-west-1.amazonaws.com');
    // The namespaced objects only: the namespace and the StorageClass are a cluster admin's.
    expect(objects.filter((object) => !object.metadata.namespace)).toEqual([]);
    expect(objects.length).toBeGreaterThan(30);
    const images = objects.flatMap((object) => JSON.stringify(object).match(/"image":"[^"]+"/g) ?? []);
    const own = [...new Set(images.filter((image) => image.includes('fibstack-')))].sort();
    expect(own).toEqual(SERVICES.map((service) => `"image":"${release.refs[service]}"`).sort());
  });

  it('refuses an unsigned image, naming it, before it touches the cluster or applies anything', async () => {
    const unsigned = await release.pushUnsigned('server', 'server, rebuilt outside CI\n');
    const { status, stderr, calls } = deploy({ IMAGES: release.imagesFile('unsigned.json', { server: unsigned }) });
    expect(status).toBe(1);
    expect(stderr).toContain(`REFUSED server ${unsigned}: not signed (no signature manifest)`);
    expect(stderr).toContain("refused: not every image is signed by the project's key (above); nothing was applied");
    expect(calls).toEqual(['kubectl kustomize']);
  });

  it('refuses until the operator adds their public key (the repository commits none), saying how', () => {
    const { status, stderr, calls } = deploy({}, SCRIPT);
    expect(status).toBe(1);
    expect(stderr).toContain('no public key at');
    expect(stderr).toContain('Generate your key pair (scripts/README.md, "Supply chain")');
    expect(calls).toEqual(['kubectl kustomize']);
    const component = deploy({ EKS_COMPONENTS: 'signed-images' }, SCRIPT);
    expect(component.stderr).toContain('the signed-images component needs your public key at');
    expect(component.calls).toEqual(['kubectl kustomize']);
  });

  it('refuses a tag, in any form: a tag can be moved after the images were tested and signed', () => {
    expect(deploy({ IMAGE_TAG: 'abc123' })).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('IMAGE_TAG is set, but a tag can be moved after the images were tested and signed'),
      calls: [],
    });
    const tagged = deploy({ IMAGES: release.imagesFile('tagged.json', { worker: 'acme/fibstack-worker:abc123' }) });
    expect(tagged).toMatchObject({ status: 1, calls: [] });
    expect(tagged.stderr).toContain('worker is "acme/fibstack-worker:abc123", not registry/name@sha256:<64 hex> (a tag is not a release)');
    expect(deploy({ IMAGES: join(bin, 'no-release.json') }).stderr).toContain('not found (scripts/release-images push writes it)');
  });

  it('names every right this identity lacks, and applies nothing', () => {
    const { status, stderr, calls } = deploy({
      DENIED: 'patch deployments.apps;get customresourcedefinitions.apiextensions.k8s.io/scaledobjects.keda.sh',
    });
    expect(status).toBe(1);
    expect(stderr).toContain('this identity may not do what the deploy does; nothing was applied:');
    expect(stderr).toContain('  - patch deployments.apps in fibstack');
    expect(stderr).toContain('  - get customresourcedefinitions.apiextensions.k8s.io/scaledobjects.keda.sh\n');
    expect(stderr).toContain("grant these rights to CI's EKS access entry");
    // Not mistaken for a missing CRD: the cluster checks did not run.
    expect(stderr).not.toContain('is not installed');
    expect(calls.filter((call) => call.startsWith('kubectl apply') || call.startsWith('kubectl get crd'))).toEqual([]);
  });

  it('requires the cluster-wide objects a cluster admin creates, and says how', () => {
    const { status, stderr, calls } = deploy({ NO_CLUSTER_OBJECTS: '1' });
    expect(status).toBe(1);
    expect(stderr).toContain(
      'the cluster-wide storageclasses.storage.k8s.io/fibstack-gp3 does not exist, and CI may not create cluster-wide objects',
    );
    expect(stderr).toContain('the cluster-wide namespaces/fibstack does not exist');
    expect(stderr).toContain('scripts/deploy-eks cluster-objects | kubectl apply -f -');
    expect(calls.filter((call) => call.startsWith('kubectl apply'))).toEqual([]);
    // What that prints: exactly those objects, for the same overlay and components, without a release or a cluster.
    const printed = spawnSync(SCRIPT, ['cluster-objects'], {
      env: { ...process.env, EKS_COMPONENTS: 'gateway-api gateway-api-aws', EKS_OVERLAY: '', IMAGES: '' },
      encoding: 'utf8',
    });
    expect(printed.status, printed.stderr).toBe(0);
    expect(parseObjects(printed.stdout).map((object) => `${object.kind}/${object.metadata.name}`)).toEqual([
      'Namespace/fibstack',
      'StorageClass/fibstack-gp3',
      'GatewayClass/fibstack',
    ]);
  });

  it('deploys a registry and digests given apart (IMAGE_REGISTRY, IMAGE_DIGESTS), and refuses an incomplete list', () => {
    const registry = release.refs.server.slice(0, release.refs.server.indexOf('/'));
    const digests = SERVICES.map((service) => `fibstack-${service}=${release.refs[service].slice(release.refs[service].indexOf('@') + 1)}`);
    const { status, stderr, objects } = deploy({ IMAGES: '', IMAGE_REGISTRY: registry, IMAGE_DIGESTS: digests.join(' ') });
    expect(status, stderr).toBe(0);
    const images = new Set(objects.flatMap((object) => JSON.stringify(object).match(/"image":"[^"]*fibstack-[^"]+"/g) ?? []));
    expect(images).toEqual(new Set(SERVICES.map((service) => `"image":"${release.refs[service]}"`)));
    const partial = deploy({ IMAGES: '', IMAGE_REGISTRY: registry, IMAGE_DIGESTS: digests[1]! });
    expect(partial.status).toBe(1);
    expect(partial.stderr).toContain('IMAGE_DIGESTS has no fibstack-worker=sha256:<64 hex>');
  });

  it('deploys other overlays and components as told', () => {
    const { status, calls, objects } = deploy({ EKS_COMPONENTS: 'keda-autoscaling' });
    expect(status).toBe(0);
    expect(objects.some((object) => object.kind === 'ScaledObject')).toBe(true);
    expect(calls).toContain('kubectl get crd scaledobjects.keda.sh');
    expect(calls).toContain('kubectl get crd triggerauthentications.keda.sh');
    expect(calls).toContain('kubectl auth can-i create scaledobjects.keda.sh -n fibstack --quiet');
  });

  it('deploys the admission policy with the operator key, once Kyverno is installed', () => {
    const { status, calls, objects } = deploy({ EKS_COMPONENTS: 'signed-images' });
    expect(status).toBe(0);
    expect(objects.find((object) => object.kind === 'Policy')?.metadata).toMatchObject({ name: 'signed-images', namespace: 'fibstack' });
    expect(calls).toContain('kubectl get crd policies.kyverno.io');
    expect(deploy({ EKS_COMPONENTS: 'signed-images', NO_CRDS: '1' }).stderr).toContain('the CRD policies.kyverno.io is not installed');
  });

  it('deploys observability with the environment named; the version is the commit each image carries', () => {
    const { status, calls, objects } = deploy({ EKS_COMPONENTS: 'observability' });
    expect(status).toBe(0);
    for (const name of ['server', 'worker']) {
      const deployment = objects.find((object) => object.kind === 'Deployment' && object.metadata.name === name)!;
      const env = (deployment.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } })
        .template.spec.containers[0]!.env;
      expect(env.find((variable) => variable.name === 'OTEL_RESOURCE_ATTRIBUTES')?.value, name).toBe(
        'deployment.environment.name=kubernetes',
      );
      expect(env.some((variable) => variable.name === 'FIBSTACK_VERSION')).toBe(false);
    }
    for (const crd of ['servicemonitors', 'podmonitors', 'prometheusrules'])
      expect(calls).toContain(`kubectl get crd ${crd}.monitoring.coreos.com`);
  });

  it('says exactly what is missing, naming each add-on, and applies nothing, when the cluster is not ready', () => {
    const unreachable = deploy({ UNREACHABLE: '1' });
    expect(unreachable.status).toBe(1);
    expect(unreachable.stderr).toContain('cannot reach the API server of EKS cluster fib (eu-west-1)');
    expect(unreachable.stderr).toContain('EKS access entry');
    // k8s/ itself: its claims name no class, so the cluster needs a default one.
    const { status, stderr, calls } = deploy({
      EKS_OVERLAY: 'k8s',
      NO_CSI: '1',
      NO_SECRET: '1',
      NO_DEFAULT_SC: '1',
      NO_METRICS: '1',
      NO_LBC: '1',
      NO_NETPOL: '1',
    });
    expect(status).toBe(1);
    for (const message of [
      'the add-on aws-ebs-csi-driver (ebs.csi.aws.com) is not installed: aws eks create-addon --cluster-name fib --addon-name aws-ebs-csi-driver',
      'the cluster has no default StorageClass, so the claims would stay Pending: the add-on aws-ebs-csi-driver with configuration {"defaultStorageClass":{"enabled":true}}',
      'the add-on metrics-server is not running, so the autoscalers cannot read CPU',
      'the AWS Load Balancer Controller (kube-system/aws-load-balancer-controller) is not running',
      'the VPC CNI does not enforce NetworkPolicies (add-on vpc-cni without enableNetworkPolicy)',
      'the Secret fibstack-secrets has no key POSTGRES_PASSWORD: kubectl create namespace fibstack; kubectl -n fibstack create secret generic fibstack-secrets --from-literal=POSTGRES_PASSWORD=',
      'the Secret fibstack-secrets has no key REDIS_PASSWORD',
    ])
      expect(stderr).toContain(message);
    for (const run of [unreachable.calls, calls]) expect(run.filter((call) => call.startsWith('kubectl apply'))).toEqual([]);
    const keda = deploy({ EKS_COMPONENTS: 'keda-autoscaling', NO_CRDS: '1' });
    expect(keda.stderr).toContain('the CRD scaledobjects.keda.sh is not installed');
  });

  it('refuses a combination of components that makes no sense, saying why, before touching the cluster', () => {
    const { status, stderr, calls } = deploy({ EKS_COMPONENTS: 'nlb-tls gateway-api' });
    expect(status).toBe(1);
    expect(stderr).toContain('REFUSED: gateway-api and nlb-tls cannot be combined');
    expect(calls).toEqual(['kubectl kustomize']);
    expect(deploy({ EKS_COMPONENTS: 'managed-data' }).stderr).toContain("no component 'managed-data'");
  });

  it('applies components in their own order whatever order they are named in (gateway-api-aws after gateway-api)', () => {
    const { status, objects } = deploy({ EKS_COMPONENTS: 'gateway-api-aws gateway-api' });
    expect(status).toBe(0);
    expect(objects.find((object) => object.kind === 'Gateway')!.spec).toMatchObject({
      infrastructure: { parametersRef: { kind: 'LoadBalancerConfiguration' } },
    });
  });

  it('refuses the committed managed-data overlay until its endpoints and subnets are filled in', () => {
    const { status, stderr, calls } = deploy({ EKS_OVERLAY: 'kustomize/overlays/eks-managed-data' }, SCRIPT);
    expect(status).toBe(1);
    expect(stderr).toContain('the manifests still hold placeholders');
    expect(stderr).toContain('REPLACE_ME.rds.amazonaws.com');
    expect(stderr).toContain('REPLACE_ME.cache.amazonaws.com');
    // The subnets of RDS and ElastiCache have no working-looking default: they must be filled in.
    expect(stderr).toMatch(/POSTGRES_CIDR/);
    expect(stderr).toMatch(/REDIS_CIDR/);
    expect(calls).toEqual(['kubectl kustomize']);
  });

  it('refuses the Gateway path until the proxies the edge may trust (REAL_IP_FROM) are filled in', () => {
    const { status, stderr } = deploy({ EKS_COMPONENTS: 'gateway-api gateway-api-aws' }, SCRIPT);
    expect(status).toBe(1);
    expect(stderr).toContain('REPLACE_ME-GATEWAY_PROXY_CIDR');
  });

  it('with managed data (filled in), checks for the Redis AUTH token and the RDS CA bundle, not for EBS', () => {
    const managed = { EKS_OVERLAY: 'kustomize/overlays/eks-managed-data' };
    const missing = deploy({ ...managed, EXTRA_KEYS: '' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('the ConfigMap rds-ca-bundle is missing');
    expect(missing.calls.some((call) => call.includes('csidriver'))).toBe(false);
    const ready = deploy({ ...managed, EXTRA_KEYS: '1' });
    expect(ready.status).toBe(0);
    expect(ready.calls).toContain('kubectl -n fibstack get secret fibstack-secrets -o jsonpath={.data.REDIS_PASSWORD}');
    expect(ready.objects.some((object) => object.kind === 'StatefulSet')).toBe(false);
    expect(sorted(ready.calls.filter((call) => call.includes('rollout status')))).toEqual(
      sorted(waits().filter((wait) => wait.includes('deployment/'))),
    );
  });

  it('refuses the placeholder ACM certificate of nlb-tls', () => {
    const { status, stderr, calls } = deploy({ EKS_COMPONENTS: 'nlb-tls' }, SCRIPT);
    expect(status).toBe(1);
    expect(stderr).toContain('certificate/REPLACE_ME');
    expect(calls).toEqual(['kubectl kustomize']);
  });

  it('rolls back a Deployment that does not become ready, waits for the rollback to complete, and fails', () => {
    const { status, stderr, calls } = deploy({ FAIL: 'deployment/worker' });
    expect(status).toBe(1);
    const afterApply = calls.slice(calls.findIndex((call) => call.startsWith('kubectl apply')) + 1);
    expect(sorted(afterApply.slice(0, 6))).toEqual(sorted(waits()));
    expect(afterApply.slice(6)).toEqual([
      'kubectl -n fibstack rollout history deployment/worker',
      'kubectl -n fibstack rollout undo deployment/worker',
      'kubectl -n fibstack rollout status deployment/worker --timeout=8m',
    ]);
    expect(stderr).toContain('deployment/worker did not become ready: error: timed out waiting for the condition');
    expect(stderr).toContain('deployment/worker: rolled back to the previous release');
    expect(stderr).toContain('failed: deployment/worker');
  });

  it('does not roll back the first release of a Deployment: there is nothing before it', () => {
    const { status, stderr, calls } = deploy({ FAIL: 'deployment/server', REVISIONS: '1' });
    expect(status).toBe(1);
    expect(calls.filter((call) => call.includes('rollout undo'))).toEqual([]);
    expect(stderr).toContain('deployment/server: no earlier release to roll back to');
  });

  it('waits for a stuck rollout printing progress, gives up within its timeout and awaits the undo', () => {
    const { status, stderr, calls } = deploy({ FAIL: 'deployment/worker', HANG: '1', ROLLOUT_TIMEOUT: '3s', PROGRESS_INTERVAL: '1' });
    expect(status).toBe(1);
    const progress = stderr.split('\n').filter((line) => /still waiting for deployment\/worker \(\ds of at most 3s\)/.test(line));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(calls.slice(-3)).toEqual([
      'kubectl -n fibstack rollout history deployment/worker',
      'kubectl -n fibstack rollout undo deployment/worker',
      'kubectl -n fibstack rollout status deployment/worker --timeout=3s',
    ]);
    expect(stderr).toContain('deployment/worker: rolled back to the previous release');
    expect(stderr).toContain('failed: deployment/worker');
  });

  it('by default gives the rollouts and then the rollbacks less than the 10 minutes a CI allows without output', () => {
    const { calls } = deploy({ FAIL: 'deployment/worker' });
    const waitsMade = calls.filter((call) => call.includes('rollout status'));
    expect(waitsMade.length).toBe(7);
    for (const call of waitsMade) {
      const [, amount, unit] = /--timeout=(\d+)([smh])$/.exec(call)!;
      expect(Number(amount) * { s: 1, m: 60, h: 3600 }[unit as 's' | 'm' | 'h'], call).toBeLessThan(600);
    }
    expect(deploy({ ROLLOUT_TIMEOUT: 'ten minutes' }).stderr).toContain('ROLLOUT_TIMEOUT must be a duration');
  });

  it('adding KEDA removes the CPU HPA it replaces before the apply; removing it, the ScaledObject', () => {
    const keda = deploy({ EKS_COMPONENTS: 'keda-autoscaling', CLUSTER_HPAS: 'server worker' });
    expect(keda.status).toBe(0);
    const apply = keda.calls.findIndex((call) => call.startsWith('kubectl apply'));
    const deletion = keda.calls.indexOf('kubectl -n fibstack delete horizontalpodautoscaler worker --ignore-not-found');
    expect(deletion).toBeGreaterThan(-1);
    expect(deletion).toBeLessThan(apply);
    expect(keda.calls.some((call) => call.includes('delete horizontalpodautoscaler server'))).toBe(false);
    const back = deploy({ CLUSTER_SCALEDOBJECTS: 'worker' });
    const removed = back.calls.indexOf('kubectl -n fibstack delete scaledobject.keda.sh worker --ignore-not-found');
    expect(removed).toBeGreaterThan(-1);
    expect(removed).toBeLessThan(back.calls.findIndex((call) => call.startsWith('kubectl apply')));
    // Nothing to replace: nothing deleted.
    expect(deploy({}).calls.some((call) => call.includes(' delete ') && !isRightCheck(call))).toBe(false);
  });

  it('prunes only the kinds whose CRDs the cluster has', () => {
    const { calls } = deploy({ NO_CRDS: '1' });
    expect(calls.find((call) => call.startsWith('kubectl apply'))).toBe(`kubectl apply ${PRUNE} -f namespaced.yaml`);
  });

  it('when the apply fails part-way, still waits for the rollouts it started and rolls back, then fails', () => {
    const { status, stderr, calls } = deploy({ APPLY_FAILS: '1', FAIL: 'deployment/server' });
    expect(status).toBe(1);
    expect(calls).toContain('kubectl -n fibstack rollout undo deployment/server');
    expect(stderr).toContain('kubectl apply failed');
    expect(deploy({ APPLY_FAILS: '1' })).toMatchObject({ status: 1, stderr: expect.stringContaining('kubectl apply failed') });
  });

  it('refuses to run without its settings', () => {
    expect(deploy({ EKS_CLUSTER: '' })).toMatchObject({ status: 1, calls: [] });
    expect(deploy({ EB_REGION: '' }).stderr).toContain('set EKS_REGION or EB_REGION');
    expect(deploy({ EKS_OVERLAY: 'kustomize/overlays/nope' }).stderr).toContain('no overlay at');
    expect(deploy({ IMAGES: '', IMAGE_DIGESTS: 'fibstack-server=sha256:1' }).stderr).toContain('set IMAGE_REGISTRY');
  });
});
