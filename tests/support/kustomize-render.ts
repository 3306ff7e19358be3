import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from './kubernetes-schema.js';
import { loadManifests } from './k8s-manifests.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const KUSTOMIZE = join(REPO, 'kustomize');

/**
 * `kubectl kustomize DIR` (kubectl 1.32, kustomize v5; on the project's machines), or the standalone
 * `kustomize build DIR` where only that is installed. Neither there: the error says what to install.
 */
function kustomizeBuild(dir: string): string {
  const attempts: Array<[string, string[]]> = [
    ['kubectl', ['kustomize', dir]],
    ['kustomize', ['build', dir]],
  ];
  const failures: string[] = [];
  for (const [command, args] of attempts) {
    try {
      return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const failure = error as NodeJS.ErrnoException & { stderr?: string };
      if (failure.code === 'ENOENT') {
        failures.push(`${command}: not on PATH`);
        continue;
      }
      throw new Error(`${command} ${args.join(' ')} failed:\n${failure.stderr ?? failure.message}`);
    }
  }
  throw new Error(`cannot render kustomizations: ${failures.join('; ')}. Install kubectl ≥ 1.27 (kustomize v5).`);
}

export function parseObjects(yaml: string): KubeObject[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as KubeObject | null)
    .filter((object): object is KubeObject => object !== null);
}

export interface Variant {
  /** The overlay (a folder under kustomize/overlays, or `base` for k8s/) the variant builds on. */
  overlay: string;
  /** Rendered from a copy with OPERATOR_VALUES written over the placeholders, as an operator deploys it. */
  filledIn?: boolean;
  components?: string[];
  /** kustomize `images:` entries laid over the overlay's, as scripts/deploy-eks sets them. */
  images?: Array<{ name: string; newName?: string; newTag?: string; digest?: string }>;
  /** fibstack-config settings merged over the overlay's. */
  config?: Record<string, string>;
}

export function overlayDir(overlay: string, root = REPO): string {
  return overlay === 'base' ? join(root, 'k8s') : join(root, 'kustomize', 'overlays', overlay);
}

/**
 * What an operator writes over the REPLACE_ME placeholders of the overlays and components before a
 * deploy (k8s/README.md): the managed services' endpoints and subnets, the Gateway's proxy addresses,
 * the ACM certificate. The image placeholders are scripts/deploy-eks's (Variant.images).
 */
export const OPERATOR_VALUES: Record<string, string> = {
  'REPLACE_ME.rds.amazonaws.com': 'fibstack.c1x2y3z4.eu-west-1.rds.amazonaws.com',
  'REPLACE_ME.cache.amazonaws.com': 'master.fibstack.a1b2c3.euw1.cache.amazonaws.com',
  'REPLACE_ME-POSTGRES_CIDR': '192.168.96.0/19',
  'REPLACE_ME-REDIS_CIDR': '192.168.128.0/19',
  'REPLACE_ME-GATEWAY_PROXY_CIDR': '192.168.0.0/16',
  'arn:aws:acm:REGION:ACCOUNT:certificate/REPLACE_ME':
    'arn:aws:acm:eu-west-1:123456789012:certificate/1f2e3d4c-0000-4000-8000-123456789abc',
};

/**
 * The operator's image-signing key pair (ECDSA P-256, as cosign makes), made once per test run: the repository
 * commits no public key (kustomize/components/signed-images renders only once an operator adds theirs).
 */
export const OPERATOR_SIGNING_KEY = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
})();
export const SIGNING_KEY_FILE = 'kustomize/components/signed-images/cosign.pub';

/**
 * Copies k8s/ and kustomize/ into `root` with OPERATOR_VALUES written in and OPERATOR_SIGNING_KEY's public key
 * added, as an operator fills them in.
 */
export function copyFilledIn(root: string): void {
  for (const folder of ['k8s', 'kustomize']) cpSync(join(REPO, folder), join(root, folder), { recursive: true });
  writeFileSync(join(root, SIGNING_KEY_FILE), OPERATOR_SIGNING_KEY.publicPem);
  const files = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)]));
  for (const file of [...files(join(root, 'k8s')), ...files(join(root, 'kustomize'))]) {
    const text = readFileSync(file, 'utf8');
    const filled = Object.entries(OPERATOR_VALUES).reduce((result, [placeholder, value]) => result.replaceAll(placeholder, value), text);
    if (filled !== text) writeFileSync(file, filled);
  }
}

/** Renders `variant` through a temporary kustomization that references the repository's folders. */
export function render(variant: Variant): KubeObject[] {
  const { overlay, components = [], images, config, filledIn } = variant;
  if (!components.length && !images && !config && !filledIn) return parseObjects(kustomizeBuild(overlayDir(overlay)));
  const dir = mkdtempSync(join(tmpdir(), 'fibstack-kustomize-'));
  try {
    const root = filledIn ? join(dir, 'repo') : REPO;
    if (filledIn) copyFilledIn(root);
    // As scripts/deploy-eks does: the images are set below the components, which see the deployed ones.
    let base = relative(dir, overlayDir(overlay, root));
    if (images) {
      mkdirSync(join(dir, 'images'));
      writeFileSync(
        join(dir, 'images', 'kustomization.yaml'),
        stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [join('..', base)], images }),
      );
      base = 'images';
    }
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      resources: [base],
      ...(components.length ? { components: components.map((name) => relative(dir, join(root, 'kustomize', 'components', name))) } : {}),
      ...(config
        ? {
            configMapGenerator: [
              {
                name: 'fibstack-config',
                namespace: 'fibstack',
                behavior: 'merge',
                literals: Object.entries(config).map(([key, value]) => `${key}=${value}`),
              },
            ],
          }
        : {}),
    };
    writeFileSync(join(dir, 'kustomization.yaml'), stringify(kustomization));
    return parseObjects(kustomizeBuild(dir));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The reason kustomize gives for refusing `variant`; fails when it renders. */
export function renderRefusal(variant: Variant): string {
  try {
    render(variant);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(variant)} rendered, but should have been refused`);
}

/** A way to deploy the manifests, and the objects it sends to the API server. */
export interface Deployable {
  name: string;
  variant?: Variant;
  objects: KubeObject[];
}

/**
 * The plain base as `kubectl apply -f k8s` reads it, then every overlay and every component in use, with
 * the operator's values in place of the REPLACE_ME placeholders (as deployed). Every combination of
 * them is rendered and checked by tests/k8s/combinations.test.ts.
 */
export function deployables(): Deployable[] {
  const variants: Array<[string, Variant]> = [
    ['kustomize base (kubectl apply -k k8s)', { overlay: 'base' }],
    ['overlays/local', { overlay: 'local' }],
    ['overlays/eks', { overlay: 'eks' }],
    ['overlays/eks-managed-data', { overlay: 'eks-managed-data' }],
    ['eks + keda-autoscaling', { overlay: 'eks', components: ['keda-autoscaling'] }],
    ['eks + gateway-api + gateway-api-aws', { overlay: 'eks', components: ['gateway-api', 'gateway-api-aws'] }],
    ['local + gateway-api', { overlay: 'local', components: ['gateway-api'] }],
    ['eks + nlb-tls', { overlay: 'eks', components: ['nlb-tls'] }],
    ['eks-managed-data + gateway-api', { overlay: 'eks-managed-data', components: ['gateway-api'] }],
    ['eks-managed-data + keda-autoscaling', { overlay: 'eks-managed-data', components: ['keda-autoscaling'] }],
    [
      'eks-managed-data + keda-autoscaling + elasticache-cluster-mode',
      { overlay: 'eks-managed-data', components: ['keda-autoscaling', 'elasticache-cluster-mode'] },
    ],
    ['kustomize base + observability', { overlay: 'base', components: ['observability'] }],
    ['eks + observability', { overlay: 'eks', components: ['observability'] }],
    ['eks + bull-board', { overlay: 'eks', components: ['bull-board'] }],
  ];
  return [
    { name: 'k8s/ (kubectl apply -f k8s)', objects: loadManifests().map(({ object }) => object) },
    ...variants.map(([name, variant]) => ({ name, variant, objects: render({ ...variant, filledIn: true }) })),
  ];
}

/**
 * The overlay's local-config ConfigMap `managed-data`, which kustomize reads and drops from its output,
 * with the operator's values (OPERATOR_VALUES) in place of its placeholders.
 */
export function managedDataFacts(overlay: string): Record<string, string> | undefined {
  try {
    const [object] = parseObjects(readFileSync(join(overlayDir(overlay), 'managed-data.yaml'), 'utf8'));
    const data = object?.data as Record<string, string>;
    return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, OPERATOR_VALUES[value] ?? value]));
  } catch {
    return undefined;
  }
}
