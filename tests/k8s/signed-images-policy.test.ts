import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { baseImages } from './image-references.js';
import { render, REPO } from './render.js';

/**
 * The admission policy component (kustomize/components/signed-images), rendered through the eks overlay and
 * checked offline against Kyverno's own schema for kyverno.io/v1 Policy (tests/k8s/schemas, from Kyverno's
 * CRD). Unknown fields are errors, as `kubectl apply` (strict field validation) makes them.
 */
interface VerifyImages {
  imageReferences: string[];
  verifyDigest: boolean;
  failureAction: string;
  attestors: Array<{ entries: Array<{ keys: { publicKeys: string } }> }>;
}
interface Policy {
  kind: string;
  metadata: { name: string; namespace: string };
  spec: { rules: Array<{ name: string; verifyImages?: VerifyImages[]; validate?: { failureAction: string } }> };
}

/** The CRD's schema, with every object that lists its properties closed to others (kubectl's strict validation). */
function strictSchema(): object {
  const { $comment: _comment, ...schema } = JSON.parse(
    readFileSync(join(REPO, 'tests/k8s/schemas/kyverno-policy-v1.schema.json'), 'utf8'),
  ) as Record<string, unknown>;
  const close = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(close);
    if (!node || typeof node !== 'object') return node;
    const copy = Object.fromEntries(
      Object.entries(node).map(([key, value]) => [
        key,
        key === 'properties'
          ? Object.fromEntries(Object.entries(value as object).map(([name, child]) => [name, close(child)]))
          : close(value),
      ]),
    );
    if ('properties' in copy && !('x-kubernetes-preserve-unknown-fields' in copy) && !('additionalProperties' in copy))
      copy.additionalProperties = false;
    return copy;
  };
  return close(schema) as object;
}

const validate = new Ajv({ strict: false, allErrors: true }).compile(strictSchema());
const schemaErrors = (object: unknown) =>
  validate(object) ? [] : validate.errors!.map((error) => `${error.instancePath} ${error.message}`);

const rendered = render({ overlay: 'eks', components: ['signed-images'] });
const policy = rendered.find((object) => object.kind === 'Policy') as unknown as Policy;
const verifyRule = policy.spec.rules.find((rule) => rule.verifyImages)!.verifyImages![0]!;

/** Kyverno's image patterns: `*` stands for any characters, `?` for one. */
const matches = (pattern: string, image: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  ).test(image);

describe('kustomize/components/signed-images (Kyverno admission policy)', () => {
  it("renders one namespaced Policy, valid against Kyverno's v1 Policy schema, and nothing else of its own", () => {
    expect(policy.metadata).toEqual({ name: 'signed-images', namespace: 'fibstack' });
    expect(schemaErrors(policy)).toEqual([]);
    // The ConfigMap that carries the key is local-config: kustomize leaves it out.
    expect(rendered.filter((object) => object.metadata.name === 'image-signing-key')).toEqual([]);
  });

  it('has a schema check that refuses what Kyverno would: a misspelled field, an unknown action, a wrong type', () => {
    const broken = (edit: (copy: Policy) => void) => {
      const copy = structuredClone(policy);
      edit(copy);
      return schemaErrors(copy);
    };
    expect(broken((copy) => Object.assign(copy.spec.rules[0]!.verifyImages![0]!, { imageReference: ['*'] }))).not.toEqual([]);
    expect(broken((copy) => (copy.spec.rules[0]!.verifyImages![0]!.failureAction = 'Block'))).not.toEqual([]);
    expect(broken((copy) => Object.assign(copy.spec.rules[0]!.verifyImages![0]!, { verifyDigest: 'yes' }))).not.toEqual([]);
  });

  it('verifies with the same public key the deploy checks and CI signs against, enforcing, by digest', () => {
    const key = verifyRule.attestors[0]!.entries[0]!.keys.publicKeys;
    const projectKey = readFileSync(join(REPO, 'kustomize/components/signed-images/cosign.pub'), 'utf8');
    expect(key).toBe(projectKey);
    expect(createPublicKey(key).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(verifyRule).toMatchObject({ failureAction: 'Enforce', verifyDigest: true, required: true });
    expect(policy.spec.rules.find((rule) => rule.validate)?.validate?.failureAction).toBe('Enforce');
  });

  it("covers fibstack's own images wherever they are pushed, and not the official bases (those are pinned, not ours to sign)", () => {
    const digest = `@sha256:${'a'.repeat(64)}`;
    for (const service of ['client', 'server', 'worker', 'nginx']) {
      for (const registry of ['acme', '123456789012.dkr.ecr.eu-west-1.amazonaws.com', '127.0.0.1:5000']) {
        const image = `${registry}/fibstack-${service}${digest}`;
        expect(
          verifyRule.imageReferences.some((pattern) => matches(pattern, image)),
          image,
        ).toBe(true);
      }
    }
    for (const image of [baseImages().postgres!, baseImages().redis!]) {
      expect(
        verifyRule.imageReferences.some((pattern) => matches(pattern, image)),
        image,
      ).toBe(false);
    }
  });
});
