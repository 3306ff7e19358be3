import { spawnSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseImages } from '../support/image-references.js';
import { kyvernoPolicyErrors } from './kyverno-policy-check.js';
import { OPERATOR_SIGNING_KEY, render, renderRefusal, REPO, SIGNING_KEY_FILE } from '../support/kustomize-render.js';

/**
 * The admission policy component (kustomize/components/signed-images), rendered through the eks overlay with an
 * operator's public key and checked offline against Kyverno's kyverno.io/v1 Policy (@kubernetes-models/kyverno,
 * generated from Kyverno's CRDs). Unknown fields are errors, as `kubectl apply` (strict field validation) makes them.
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

const rendered = render({ overlay: 'eks', components: ['signed-images'], filledIn: true });
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
  it('refuses to render until the operator adds their public key: the repository commits none', () => {
    expect(existsSync(join(REPO, SIGNING_KEY_FILE))).toBe(false);
    expect(renderRefusal({ overlay: 'eks', components: ['signed-images'] })).toMatch(/signed-images\/cosign\.pub/);
  });

  it('without that key, the push job signs nothing and the deploys verify nothing: each refuses, saying how', () => {
    // Both stop at the key, before reading a release or reaching a registry.
    for (const [script, env] of [
      ['scripts/sign-images.mjs', { COSIGN_PRIVATE_KEY: OPERATOR_SIGNING_KEY.privatePem }],
      ['scripts/verify-images.mjs', {}],
    ] as const) {
      const run = spawnSync('node', [script, '--images', join(REPO, 'no-release.json')], {
        cwd: REPO,
        env: { ...process.env, ...env },
        encoding: 'utf8',
      });
      expect(run.status, script).toBe(1);
      expect(run.stderr, script).toMatch(
        /no public key at .*signed-images\/cosign\.pub: the repository commits none\. Generate your key pair/,
      );
    }
  });

  it("renders one namespaced Policy, valid against Kyverno's v1 Policy, and nothing else of its own", () => {
    expect(policy.metadata).toEqual({ name: 'signed-images', namespace: 'fibstack' });
    expect(kyvernoPolicyErrors(policy)).toEqual([]);
    // The ConfigMap that carries the key is local-config: kustomize leaves it out.
    expect(rendered.filter((object) => object.metadata.name === 'image-signing-key')).toEqual([]);
  });

  it('has a check that refuses what Kyverno would: a misspelled field, an unknown action, a wrong type', { timeout: 30_000 }, () => {
    const broken = (edit: (copy: Policy) => void) => {
      const copy = structuredClone(policy);
      edit(copy);
      return kyvernoPolicyErrors(copy);
    };
    expect(broken((copy) => Object.assign(copy.spec.rules[0]!.verifyImages![0]!, { imageReference: ['*'] }))).toEqual([
      `Object literal may only specify known properties, and '"imageReference"' does not exist in type 'IImageVerification'.`,
    ]);
    expect(broken((copy) => (copy.spec.rules[0]!.verifyImages![0]!.failureAction = 'Block'))).toEqual([
      'data/spec/rules/0/verifyImages/0/failureAction must be equal to one of the allowed values',
    ]);
    expect(broken((copy) => Object.assign(copy.spec.rules[0]!.verifyImages![0]!, { verifyDigest: 'yes' }))).toContain(
      'data/spec/rules/0/verifyImages/0/verifyDigest must be boolean',
    );
    expect(broken((copy) => (copy.spec.rules[0]!.verifyImages![0]!.failureAction = 'Block'))).not.toEqual([]);
    expect(broken((copy) => Object.assign(copy.spec.rules[0]!.verifyImages![0]!, { verifyDigest: 'yes' }))).not.toEqual([]);
  });

  it('verifies with the same public key the deploy checks and CI signs against, enforcing, by digest', () => {
    const key = verifyRule.attestors[0]!.entries[0]!.keys.publicKeys;
    expect(key).toBe(OPERATOR_SIGNING_KEY.publicPem);
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
