#!/usr/bin/env node
// Refuses a deploy of any image that is not signed by the project's key: every image of dist/images.json must
// carry a cosign signature, by kustomize/components/signed-images/cosign.pub, for its repository and digest.
//   scripts/verify-images.mjs [--images FILE] [--key FILE]      exit 0: all verified; 1: which were refused, and why
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_FILE, readImageRefs, SERVICES } from './image-refs.mjs';
import { loadPublicKey, verifyImage } from './supply-chain/cosign.mjs';

async function main() {
  const { values } = parseArgs({
    options: {
      images: { type: 'string', default: DEFAULT_FILE },
      key: { type: 'string', default: 'kustomize/components/signed-images/cosign.pub' },
    },
  });
  const publicKey = loadPublicKey(readFileSync(values.key, 'utf8'));
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
