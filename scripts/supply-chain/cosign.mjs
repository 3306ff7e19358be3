// Image signatures in cosign's format, so `cosign verify --key cosign.pub` and admission controllers
// (Kyverno, the sigstore policy-controller) check what these scripts sign: an ECDSA P-256 signature over a
// "simple signing" payload that names the image's repository and manifest digest, stored as a layer of
// an OCI manifest tagged sha256-<digest>.sig beside the image. Key-based, without a transparency log
// (k8s/README.md, "Signed images", says why).
import { createPrivateKey, createPublicKey, sign as signBytes, verify as verifyBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseReference, Registry } from './registry.mjs';

const PAYLOAD_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const CLAIM_TYPE = 'cosign container image signature';

/** Where cosign keeps the signatures of the image with `digest`: a tag in the same repository. */
export const signatureTag = (digest) => `${digest.replace(':', '-')}.sig`;

/** A P-256 private key (PKCS#8 or SEC1 PEM, encrypted with `passphrase` when it is). */
export function loadPrivateKey(pem, passphrase) {
  const key = createPrivateKey({ key: pem, ...(passphrase && { passphrase }) });
  if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error('the signing key must be ECDSA P-256 (as cosign generate-key-pair makes)');
  return key;
}

/** Where the deploys' trust root lives: the operator's public key, which the repository does not commit. */
export const PUBLIC_KEY_FILE = 'kustomize/components/signed-images/cosign.pub';

/**
 * The public key at `file` (PUBLIC_KEY_FILE by default). None there is the state of a fresh clone, and says
 * what to do rather than failing on the first signature.
 */
export function readPublicKey(file = PUBLIC_KEY_FILE) {
  let pem;
  try {
    pem = readFileSync(file, 'utf8');
  } catch {
    throw new Error(
      `no public key at ${file}: the repository commits none. Generate your key pair (scripts/README.md, "Supply chain"), ` +
        'commit its public half there and give CI the private one',
    );
  }
  try {
    return loadPublicKey(pem);
  } catch (error) {
    throw new Error(`${file} is not an ECDSA P-256 public key (PEM): ${error.message}`);
  }
}

export function loadPublicKey(pem) {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('the public key must be ECDSA P-256');
  return key;
}

const spki = (key) => (key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' });

/** The same public key, whatever form each is given in (PEM, a private or a public KeyObject). */
export const sameKey = (a, b) => spki(a).equals(spki(b));

const payloadFor = (identity, digest) =>
  Buffer.from(
    JSON.stringify({
      critical: { identity: { 'docker-reference': identity }, image: { 'docker-manifest-digest': digest }, type: CLAIM_TYPE },
      optional: null,
    }),
  );

const imageOf = (reference) => {
  const { registry, repository, digest } = parseReference(reference);
  return { registry: new Registry(registry, repository), identity: `${registry}/${repository}`, digest };
};

/** Signs the image at `reference` (name@sha256:…), adding the signature to any it already has. */
export async function signImage(reference, privateKey) {
  const { registry, identity, digest } = imageOf(reference);
  if (!(await registry.manifest(digest))) throw new Error(`${reference}: no such image in the registry`);
  const payload = payloadFor(identity, digest);
  const signature = signBytes('sha256', payload, privateKey).toString('base64');
  const layer = {
    mediaType: PAYLOAD_TYPE,
    size: payload.length,
    digest: await registry.putBlob(payload),
    annotations: { [SIGNATURE_ANNOTATION]: signature },
  };
  const existing = await registry.manifest(signatureTag(digest));
  const layers = [...(existing?.body.layers ?? []), layer];
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      created: '0001-01-01T00:00:00Z',
      history: layers.map(() => ({ created: '0001-01-01T00:00:00Z' })),
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((each) => each.digest) },
      config: {},
    }),
  );
  await registry.putManifest(signatureTag(digest), {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: await registry.putBlob(config) },
    layers,
  });
}

/**
 * Whether the image at `reference` carries a signature by `publicKey` for exactly this repository and
 * digest: { ok: true } or { ok: false, reason }.
 */
export async function verifyImage(reference, publicKey) {
  const { registry, identity, digest } = imageOf(reference);
  if (!(await registry.manifest(digest))) return { ok: false, reason: 'no such image in the registry' };
  const signatures = await registry.manifest(signatureTag(digest));
  if (!signatures) return { ok: false, reason: 'not signed (no signature manifest)' };
  const reasons = [];
  for (const layer of signatures.body.layers ?? []) {
    const signature = layer.annotations?.[SIGNATURE_ANNOTATION];
    if (layer.mediaType !== PAYLOAD_TYPE || !signature) continue;
    const payload = await registry.blob(layer.digest);
    if (!verifyBytes('sha256', payload, publicKey, Buffer.from(signature, 'base64'))) {
      reasons.push('a signature that the key does not verify');
      continue;
    }
    const claim = JSON.parse(payload.toString('utf8'));
    if (claim.critical?.type !== CLAIM_TYPE) reasons.push(`a signed claim of type ${claim.critical?.type}`);
    else if (claim.critical.image?.['docker-manifest-digest'] !== digest)
      reasons.push(`a signature of another image (${claim.critical.image?.['docker-manifest-digest']})`);
    else if (claim.critical.identity?.['docker-reference'] !== identity)
      reasons.push(`a signature for another repository (${claim.critical.identity?.['docker-reference']})`);
    else return { ok: true };
  }
  return { ok: false, reason: reasons.length ? `no valid signature: ${reasons.join('; ')}` : 'not signed (no signature layer)' };
}
