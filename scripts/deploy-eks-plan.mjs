#!/usr/bin/env node
// Reads rendered manifests (the output of `kubectl kustomize`) and prints what scripts/deploy-eks must
// check before applying them, change around the apply, and wait for after, one item a line:
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
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const text = readFileSync(process.argv[2], 'utf8');
const objects = parseAllDocuments(text)
  .map((document) => document.toJS())
  .filter(Boolean);
const out = new Set();

for (const line of text.split('\n')) if (/YOUR_REGISTRY|COMMIT_SHA|REPLACE_ME/.test(line)) out.add(`placeholder ${line.trim()}`);

const group = (object) => (object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : '');
const CRDS = {
  'keda.sh/ScaledObject': 'scaledobjects.keda.sh',
  'keda.sh/TriggerAuthentication': 'triggerauthentications.keda.sh',
  'gateway.networking.k8s.io/GatewayClass': 'gatewayclasses.gateway.networking.k8s.io',
  'gateway.networking.k8s.io/Gateway': 'gateways.gateway.networking.k8s.io',
  'gateway.networking.k8s.io/HTTPRoute': 'httproutes.gateway.networking.k8s.io',
  'gateway.k8s.aws/LoadBalancerConfiguration': 'loadbalancerconfigurations.gateway.k8s.aws',
  'gateway.k8s.aws/TargetGroupConfiguration': 'targetgroupconfigurations.gateway.k8s.aws',
  'monitoring.coreos.com/ServiceMonitor': 'servicemonitors.monitoring.coreos.com',
  'monitoring.coreos.com/PodMonitor': 'podmonitors.monitoring.coreos.com',
  'monitoring.coreos.com/PrometheusRule': 'prometheusrules.monitoring.coreos.com',
};
for (const object of objects) {
  const crd = CRDS[`${group(object)}/${object.kind}`];
  if (crd) out.add(`crd ${crd}`);
}

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
])
  out.add(`prune ${kind} ${crd}`);

for (const kind of ['StatefulSet', 'Deployment']) {
  for (const object of objects.filter((candidate) => candidate.kind === kind))
    out.add(`rollout ${kind.toLowerCase()}/${object.metadata.name}`);
}
process.stdout.write([...out].map((line) => `${line}\n`).join(''));
