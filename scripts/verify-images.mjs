#!/usr/bin/env node
// Refuses a deploy of any image that is not signed by the project's key: every image of dist/images.json must
// carry a cosign signature, by the operator's kustomize/components/signed-images/cosign.pub, for its repository and digest.
//   scripts/verify-images.mjs [--images FILE] [--key FILE]      exit 0: all verified; 1: which were refused, and why
import { parseArgs } from 'node:util';
import { DEFAULT_FILE, readImageRefs, SERVICES } from './image-refs.mjs';
import { PUBLIC_KEY_FILE, readPublicKey, verifyImage } from './supply-chain/cosign.mjs';

async function main() {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: DEFAULT_FILE },
      key: { type: 'string', default: PUBLIC_KEY_FILE },
    },
  });
  const publicKey = readPublicKey(values.key);
  const refs = readImageRefs(values.images);
  let refused = 0;
  for (const service of SERVICES) {
    const result = await verifyImage(refs[service], publicKey);
    if (result.ok) console.log(`verified ${service} ${refs[service]}`);
    else {
      refused++;
      console.error(`REFUSED ${service} ${refs[service]}: ${result.reason}`);
    }
  }
  if (refused) throw new Error(`${refused} image(s) refused; nothing may be deployed`);
}

main().catch((error) => {
  console.error(`verify-images: ${error.message}`);
  process.exit(1);
});
