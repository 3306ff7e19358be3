#!/usr/bin/env node
// Signs each pushed image (dist/images.json, by digest) in cosign's format, beside the image in its registry.
//   COSIGN_PRIVATE_KEY=<PEM> [COSIGN_PASSWORD=…] scripts/sign-images.mjs [--images FILE] [--public-key FILE]
// The key is ECDSA P-256 (PKCS#8 PEM, encrypted or not) from a CI secret. It must belong to the public key the
// deploys verify with (kustomize/components/signed-images/cosign.pub): a mismatch stops before anything is signed.
import { parseArgs } from 'node:util';
import { DEFAULT_FILE, readImageRefs, SERVICES } from './image-refs.mjs';
import { loadPrivateKey, PUBLIC_KEY_FILE, readPublicKey, sameKey, signImage } from './supply-chain/cosign.mjs';

async function main() {
  const { values } = parseArgs({
    options: { images: { type: 'string', default: DEFAULT_FILE }, 'public-key': { type: 'string', default: PUBLIC_KEY_FILE } },
  });
  const publicKey = readPublicKey(values['public-key']);
  if (!process.env.COSIGN_PRIVATE_KEY) throw new Error('set COSIGN_PRIVATE_KEY to the signing key (PEM)');
  const privateKey = loadPrivateKey(process.env.COSIGN_PRIVATE_KEY, process.env.COSIGN_PASSWORD);
  if (!sameKey(privateKey, publicKey)) {
    throw new Error(`the signing key does not belong to ${values['public-key']}: nothing signed (deploys would refuse the images)`);
  }
  const refs = readImageRefs(values.images);
  for (const service of SERVICES) {
    await signImage(refs[service], privateKey);
    console.log(`signed ${service} ${refs[service]}`);
  }
}

main().catch((error) => {
  console.error(`sign-images: ${error.message}`);
  process.exit(1);
});
