import * as k8s from '@kubernetes/client-node';
import { Ajv } from 'ajv';
import { AWS_LOAD_BALANCER_CONTROLLER_SCHEMAS } from './aws-load-balancer-controller-schema.js';

/**
 * Offline validation of Kubernetes objects against the API's own OpenAPI definitions, two ways:
 * - kubernetes-models: JSON-schema validation (types, required fields, enums) of the apiVersion/kind;
 * - @kubernetes/client-node (generated from the Kubernetes OpenAPI spec, 1.30+): a kind must exist in a
 *   served API version (removed ones such as extensions/v1beta1 Ingress fail), and every field must be
 *   one the API knows (a typo or an invented field fails, as `kubectl apply --validate=strict` would).
 * Custom resources (Gateway API, KEDA, Prometheus Operator) are checked against their CRDs' schemas by their
 * @kubernetes-models packages (types, required fields, enums; those schemas do not reject unknown fields);
 * the AWS Load Balancer Controller's (gateway.k8s.aws), which no package models, by JSON schemas of their
 * spec written from its CRDs (aws-load-balancer-controller-schema.ts).
 */

/** API groups of the custom resources the components use, and the package modelling each. */
const CUSTOM_RESOURCE_PACKAGES: Record<string, string> = {
  'gateway.networking.k8s.io': '@kubernetes-models/gateway-api',
  'keda.sh': '@kubernetes-models/keda',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

interface AttributeType {
  baseName: string;
  type: string;
}

type ModelClass = { getAttributeTypeMap(): AttributeType[] };

const models = k8s as unknown as Record<string, ModelClass | undefined>;

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

function classNameFor(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').pop()!;
  return `${version[0]!.toUpperCase()}${version.slice(1)}${kind}`;
}

function unknownFields(value: unknown, type: string, path: string): string[] {
  const list = /^Array<(.+)>$/.exec(type);
  if (list) return Array.isArray(value) ? value.flatMap((item, i) => unknownFields(item, list[1]!, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    return value && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, item]) => unknownFields(item, map[1]!, `${path}.${key}`))
      : [];
  }
  const model = models[type];
  if (!model?.getAttributeTypeMap || !value || typeof value !== 'object') return [];
  const attributes = model.getAttributeTypeMap();
  return Object.entries(value).flatMap(([key, item]) => {
    const attribute = attributes.find((candidate) => candidate.baseName === key);
    return attribute ? unknownFields(item, attribute.type, `${path}.${key}`) : [`${path}.${key}`];
  });
}

async function schemaErrors(object: KubeObject): Promise<string[]> {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const modelPackage = CUSTOM_RESOURCE_PACKAGES[group!];
  const modulePath = modelPackage
    ? [modelPackage, group, version, object.kind].join('/')
    : ['kubernetes-models', group, version, object.kind].filter(Boolean).join('/');
  let Model: new (data: unknown) => { validate(): void };
  try {
    Model = ((await import(modulePath)) as Record<string, typeof Model>)[object.kind]!;
  } catch {
    return [`${object.apiVersion} ${object.kind} is not a Kubernetes API`];
  }
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

const ajv = new Ajv({ allErrors: true });

function awsLoadBalancerControllerErrors(object: KubeObject): string[] {
  const schema = AWS_LOAD_BALANCER_CONTROLLER_SCHEMAS[object.kind];
  if (object.apiVersion !== 'gateway.k8s.aws/v1' || !schema)
    return [`${object.apiVersion} ${object.kind} is not a kind of the AWS Load Balancer Controller`];
  const validate = ajv.compile(schema);
  if (validate(object.spec)) return [];
  return (validate.errors ?? []).map(
    (error) =>
      `spec${error.instancePath.replaceAll('/', '.')} ${error.message}${error.params && 'additionalProperty' in error.params ? `: ${String(error.params.additionalProperty)}` : ''}`,
  );
}

/** Every reason the API server would refuse `object`; empty when it is valid. */
export async function validateKubeObject(object: KubeObject): Promise<string[]> {
  const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0]! : '';
  if (group === 'gateway.k8s.aws') return awsLoadBalancerControllerErrors(object);
  if (CUSTOM_RESOURCE_PACKAGES[group]) return schemaErrors(object);
  const className = classNameFor(object.apiVersion, object.kind);
  if (!models[className]?.getAttributeTypeMap) {
    return [`${object.apiVersion} ${object.kind} is not served by Kubernetes 1.30+ (removed or unknown API version)`];
  }
  const unknown = unknownFields(object, className, '').map((path) => `unknown field ${path.slice(1)}`);
  return [...unknown, ...(await schemaErrors(object))];
}
