#!/usr/bin/env node
// Reads rendered manifests (the output of `kubectl kustomize`) and prints what scripts/deploy-eks must
// check before applying them and wait for after, one item a line:
//   crd <name>                    a custom resource kind is used: its CRD must be installed
//   csidriver <name>              claims use a StorageClass of this CSI provisioner: the driver must be there
//   secret <name> <key>           a pod reads this key of a Secret that is not in the manifests
//   configmap <name>              a pod reads a ConfigMap that is not in the manifests
//   rollout <kind>/<name>         a workload to wait for (StatefulSets first)
//   placeholder <line>            a value still to fill in (YOUR_REGISTRY, COMMIT_SHA, REPLACE_ME)
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const text = readFileSync(process.argv[2], 'utf8');
const objects = parseAllDocuments(text)
  .map((document) => document.toJS())
  .filter(Boolean);
const out = new Set();

for (const line of text.split('\n')) if (/YOUR_REGISTRY|COMMIT_SHA|REPLACE_ME/.test(line)) out.add(`placeholder ${line.trim()}`);

const CRDS = {
  'keda.sh/ScaledObject': 'scaledobjects.keda.sh',
  'gateway.networking.k8s.io/Gateway': 'gateways.gateway.networking.k8s.io',
  'gateway.networking.k8s.io/HTTPRoute': 'httproutes.gateway.networking.k8s.io',
  'monitoring.coreos.com/ServiceMonitor': 'servicemonitors.monitoring.coreos.com',
  'monitoring.coreos.com/PodMonitor': 'podmonitors.monitoring.coreos.com',
  'monitoring.coreos.com/PrometheusRule': 'prometheusrules.monitoring.coreos.com',
};
for (const object of objects) {
  const crd = CRDS[`${object.apiVersion.split('/')[0]}/${object.kind}`];
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
for (const name of claimClasses) if (classes[name]) out.add(`csidriver ${classes[name]}`);

for (const kind of ['StatefulSet', 'Deployment']) {
  for (const object of objects.filter((candidate) => candidate.kind === kind))
    out.add(`rollout ${kind.toLowerCase()}/${object.metadata.name}`);
}
process.stdout.write([...out].map((line) => `${line}\n`).join(''));
