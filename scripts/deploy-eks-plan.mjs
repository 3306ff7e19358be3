#!/usr/bin/env node
// Reads rendered manifests (the output of `kubectl kustomize`) and prints what scripts/deploy-eks must
// check before applying them, change around the apply, and wait for after, one item a line:
//   can-i <verb> <resource> <namespace|->
//                                 a right the deploy uses (apply, prune, roll back, the checks below):
//                                 checked first with `kubectl auth can-i`, so a missing one is named
//                                 instead of failing half-way (k8s/README.md, "CI access")
//   cluster-object <resource> <name>
//                                 a cluster-wide object of the render (the namespace, a StorageClass, a
//                                 GatewayClass): CI may not create those, a cluster admin does once
//                                 (`scripts/deploy-eks cluster-objects`); the deploy checks that it exists
//   crd <name>                    a custom resource kind is used: its CRD must be installed
//   csidriver <name>              claims use a StorageClass of this CSI provisioner: the driver must be there
//   default-storageclass          a claim names no StorageClass: the cluster needs a default one
//   addon <name>                  a cluster add-on the objects rely on: metrics-server (HPAs, KEDA's cpu
//                                 trigger), aws-load-balancer-controller (its NLB class or Gateway
//                                 kinds), network-policy-enforcement (NetworkPolicies)
//   secret <name> <key>           a pod reads this key of a Secret that is not in the manifests
//   configmap <name>              a pod reads a ConfigMap that is not in the manifests
//   replace-autoscaler <deployment> <kind>
//                                 the render scales the Deployment otherwise: an autoscaler of this kind
//                                 and name (from an earlier deploy) goes before the apply, because KEDA's
//                                 webhook refuses a ScaledObject beside an HPA, and two HPAs would fight
//   prune <group/version/Kind> [<crd>]
//                                 a kind whose objects a component may stop rendering: apply deletes
//                                 the cluster's ones it did not receive (where the CRD is installed)
//   rollout <kind>/<name>         a workload to wait for
//   placeholder <line>            a value still to fill in (YOUR_REGISTRY, COMMIT_SHA, REPLACE_ME)
// With more arguments, writes the namespaced objects (what CI applies) and the cluster-wide ones apart:
//   scripts/deploy-eks-plan.mjs RENDERED [NAMESPACED_OUT [CLUSTER_OUT]]
import { readFileSync, writeFileSync } from 'node:fs';
import { parseAllDocuments, stringify } from 'yaml';

const text = readFileSync(process.argv[2], 'utf8');
const objects = parseAllDocuments(text)
  .map((document) => document.toJS())
  .filter(Boolean);
const out = new Set();

for (const line of text.split('\n')) if (/YOUR_REGISTRY|COMMIT_SHA|REPLACE_ME/.test(line)) out.add(`placeholder ${line.trim()}`);

const group = (object) => (object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '');
// The API resource of each kind the renders hold (`kubectl auth can-i` takes resources); a kind missing here
// stops the deploy, so a new component is never applied with rights nobody checked.
const RESOURCES = {
  '/ConfigMap': 'configmaps',
  '/Secret': 'secrets',
  '/Service': 'services',
  '/ServiceAccount': 'serviceaccounts',
  '/PersistentVolumeClaim': 'persistentvolumeclaims',
  'apps/Deployment': 'deployments.apps',
  'apps/StatefulSet': 'statefulsets.apps',
  'batch/CronJob': 'cronjobs.batch',
  'autoscaling/HorizontalPodAutoscaler': 'horizontalpodautoscalers.autoscaling',
  'policy/PodDisruptionBudget': 'poddisruptionbudgets.policy',
  'networking.k8s.io/NetworkPolicy': 'networkpolicies.networking.k8s.io',
  'keda.sh/ScaledObject': 'scaledobjects.keda.sh',
  'keda.sh/TriggerAuthentication': 'triggerauthentications.keda.sh',
  'gateway.networking.k8s.io/Gateway': 'gateways.gateway.networking.k8s.io',
  'gateway.networking.k8s.io/HTTPRoute': 'httproutes.gateway.networking.k8s.io',
  'gateway.k8s.aws/LoadBalancerConfiguration': 'loadbalancerconfigurations.gateway.k8s.aws',
  'gateway.k8s.aws/TargetGroupConfiguration': 'targetgroupconfigurations.gateway.k8s.aws',
  'monitoring.coreos.com/ServiceMonitor': 'servicemonitors.monitoring.coreos.com',
  'monitoring.coreos.com/PodMonitor': 'podmonitors.monitoring.coreos.com',
  'monitoring.coreos.com/PrometheusRule': 'prometheusrules.monitoring.coreos.com',
  'kyverno.io/Policy': 'policies.kyverno.io',
  // Cluster-wide: created once by a cluster admin, only read by CI.
  '/Namespace': 'namespaces',
  'storage.k8s.io/StorageClass': 'storageclasses.storage.k8s.io',
  'gateway.networking.k8s.io/GatewayClass': 'gatewayclasses.gateway.networking.k8s.io',
};
const resourceOf = (object) => {
  const resource = RESOURCES[`${group(object)}/${object.kind}`];
  if (!resource) throw new Error(`deploy-eks-plan: no API resource known for ${object.apiVersion} ${object.kind} (add it to RESOURCES)`);
  return resource;
};
/** The API groups a CRD defines (an add-on installs it), not Kubernetes itself. */
const CRD_GROUPS = new Set(['keda.sh', 'gateway.networking.k8s.io', 'gateway.k8s.aws', 'monitoring.coreos.com', 'kyverno.io']);
for (const object of objects) if (CRD_GROUPS.has(group(object))) out.add(`crd ${resourceOf(object)}`);

const rendered = (kind, name) => objects.some((object) => object.kind === kind && object.metadata.name === name);
const templates = objects.flatMap((object) => {
  if (object.kind === 'CronJob') return [object.spec.jobTemplate.spec.template];
  return ['Deployment', 'StatefulSet'].includes(object.kind) ? [object.spec.template] : [];
});
for (const template of templates) {
  const containers = [...template.spec.containers, ...(template.spec.initContainers ?? [])];
  for (const container of containers) {
    for (const { valueFrom } of container.env ?? []) {
      const secret = valueFrom?.secretKeyRef;
      if (secret && !rendered('Secret', secret.name)) out.add(`secret ${secret.name} ${secret.key}`);
      const configMap = valueFrom?.configMapKeyRef;
      if (configMap && !rendered('ConfigMap', configMap.name)) out.add(`configmap ${configMap.name}`);
    }
  }
  for (const volume of template.spec.volumes ?? []) {
    if (volume.configMap && !rendered('ConfigMap', volume.configMap.name)) out.add(`configmap ${volume.configMap.name}`);
    if (volume.secret && !rendered('Secret', volume.secret.secretName)) out.add(`secret ${volume.secret.secretName}`);
  }
}

const classes = Object.fromEntries(
  objects.filter((object) => object.kind === 'StorageClass').map((object) => [object.metadata.name, object.provisioner]),
);
const claimClasses = [
  ...objects
    .filter((object) => object.kind === 'StatefulSet')
    .flatMap((set) => (set.spec.volumeClaimTemplates ?? []).map((claim) => claim.spec.storageClassName)),
  ...objects.filter((object) => object.kind === 'PersistentVolumeClaim').map((claim) => claim.spec.storageClassName),
];
for (const name of claimClasses) {
  if (name === undefined) out.add('default-storageclass');
  // The cluster's default class on EKS is the EBS CSI driver's (eks/cluster.yaml).
  out.add(`csidriver ${classes[name] ?? 'ebs.csi.aws.com'}`);
}

const scaledObjects = objects.filter((object) => object.kind === 'ScaledObject');
const hpas = objects.filter((object) => object.kind === 'HorizontalPodAutoscaler');
const cpuTriggers = scaledObjects.some((scaled) => scaled.spec.triggers.some((trigger) => ['cpu', 'memory'].includes(trigger.type)));
if (hpas.length || cpuTriggers) out.add('addon metrics-server');
const awsLoadBalancers =
  objects.some((object) => object.kind === 'Service' && object.spec.loadBalancerClass === 'service.k8s.aws/nlb') ||
  objects.some((object) => group(object) === 'gateway.k8s.aws') ||
  objects.some((object) => object.kind === 'GatewayClass' && object.spec.controllerName.startsWith('gateway.k8s.aws/'));
if (awsLoadBalancers) out.add('addon aws-load-balancer-controller');
if (objects.some((object) => object.kind === 'NetworkPolicy')) out.add('addon network-policy-enforcement');

for (const deployment of objects.filter((object) => object.kind === 'Deployment')) {
  const targets = (list) => list.some((object) => object.spec.scaleTargetRef.name === deployment.metadata.name);
  if (targets(scaledObjects) && !rendered('HorizontalPodAutoscaler', deployment.metadata.name))
    out.add(`replace-autoscaler ${deployment.metadata.name} horizontalpodautoscaler`);
  if (targets(hpas) && !rendered('ScaledObject', deployment.metadata.name))
    out.add(`replace-autoscaler ${deployment.metadata.name} scaledobject.keda.sh`);
}

// What a component adds and another deploy may no longer render. Never the stores, their claims, the
// namespace or a Secret: losing those loses data, so only a person removes them. Nor ConfigMaps: the
// previous release's hashed fibstack-config is what a `rollout undo` goes back to.
for (const kind of [
  'v1/ServiceAccount',
  'autoscaling/v2/HorizontalPodAutoscaler',
  'policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy',
])
  out.add(`prune ${kind}`);
for (const [kind, crd] of [
  ['keda.sh/v1alpha1/ScaledObject', 'scaledobjects.keda.sh'],
  ['keda.sh/v1alpha1/TriggerAuthentication', 'triggerauthentications.keda.sh'],
  ['gateway.networking.k8s.io/v1/Gateway', 'gateways.gateway.networking.k8s.io'],
  ['gateway.networking.k8s.io/v1/HTTPRoute', 'httproutes.gateway.networking.k8s.io'],
  ['gateway.k8s.aws/v1/LoadBalancerConfiguration', 'loadbalancerconfigurations.gateway.k8s.aws'],
  ['gateway.k8s.aws/v1/TargetGroupConfiguration', 'targetgroupconfigurations.gateway.k8s.aws'],
  ['monitoring.coreos.com/v1/ServiceMonitor', 'servicemonitors.monitoring.coreos.com'],
  ['monitoring.coreos.com/v1/PodMonitor', 'podmonitors.monitoring.coreos.com'],
  ['monitoring.coreos.com/v1/PrometheusRule', 'prometheusrules.monitoring.coreos.com'],
  ['kyverno.io/v1/Policy', 'policies.kyverno.io'],
])
  out.add(`prune ${kind} ${crd}`);

for (const kind of ['StatefulSet', 'Deployment']) {
  for (const object of objects.filter((candidate) => candidate.kind === kind))
    out.add(`rollout ${kind.toLowerCase()}/${object.metadata.name}`);
}

const namespaced = objects.filter((object) => object.metadata.namespace);
for (const object of objects.filter((candidate) => !candidate.metadata.namespace)) {
  out.add(`cluster-object ${resourceOf(object)} ${object.metadata.name}`);
  out.add(`can-i get ${resourceOf(object)}/${object.metadata.name} -`);
}
const inNamespace = (verb, resource) => {
  for (const namespace of new Set(namespaced.map((object) => object.metadata.namespace))) out.add(`can-i ${verb} ${resource} ${namespace}`);
};
// Apply: read, create, change.
for (const resource of new Set(namespaced.map(resourceOf))) for (const verb of ['get', 'create', 'patch']) inNamespace(verb, resource);
// Prune: list and delete what a component no longer renders; remove a replaced autoscaler.
for (const line of [...out].filter((item) => item.startsWith('prune '))) {
  const [, kind, crd] = line.split(' ');
  const [version, name] = [kind.slice(0, kind.lastIndexOf('/')), kind.slice(kind.lastIndexOf('/') + 1)];
  const resource = resourceOf({ apiVersion: version, kind: name });
  for (const verb of ['list', 'delete']) inNamespace(verb, resource);
  // Whether its CRD is installed decides whether the kind is pruned.
  if (crd) out.add(`crd-read ${crd}`);
}
// Wait and roll back: the history is the ReplicaSets; an undo patches the Deployment.
inNamespace('list', 'replicasets.apps');
// The checks before the apply.
const READS = {
  crd: (name) => `can-i get customresourcedefinitions.apiextensions.k8s.io/${name} -`,
  'crd-read': (name) => `can-i get customresourcedefinitions.apiextensions.k8s.io/${name} -`,
  csidriver: (name) => `can-i get csidrivers.storage.k8s.io/${name} -`,
  'default-storageclass': () => 'can-i list storageclasses.storage.k8s.io -',
  'addon metrics-server': () => 'can-i get apiservices.apiregistration.k8s.io/v1beta1.metrics.k8s.io -',
  'addon aws-load-balancer-controller': () => 'can-i get deployments.apps/aws-load-balancer-controller kube-system',
  'addon network-policy-enforcement': () => 'can-i get daemonsets.apps/aws-node kube-system',
};
for (const line of [...out]) {
  const [what, name] = line.split(' ');
  const read = READS[line] ?? READS[what];
  if (read) out.add(read(name));
}
for (const line of [...out].filter((item) => /^(secret|configmap) /.test(item))) {
  const [what, name] = line.split(' ');
  inNamespace('get', `${what}s/${name}`);
}

for (const line of [...out].filter((item) => item.startsWith('crd-read '))) out.delete(line);
const asYaml = (list) => list.map((object) => `---\n${stringify(object)}`).join('');
if (process.argv[3]) writeFileSync(process.argv[3], asYaml(namespaced));
if (process.argv[4]) writeFileSync(process.argv[4], asYaml(objects.filter((object) => !object.metadata.namespace)));
process.stdout.write([...out].map((line) => `${line}\n`).join(''));
