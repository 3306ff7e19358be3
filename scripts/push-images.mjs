#!/usr/bin/env node
// Pushes the images a build exported (DIR/<service>.tar: OCI image layouts, `scripts/release-images build`) to
// a registry byte for byte, as REGISTRY/fibstack-<service>:TAG, and records what was pushed, by digest, in
// FILE for the deploys (scripts/image-refs.mjs). The images are not built again: the digests pushed are those
// of the build the tests ran on, in a job that held no credentials.
//   scripts/push-images.mjs --registry REGISTRY --tag TAG [--from dist/oci] [--images dist/images.json]
// Credentials: REGISTRY_USERNAME/REGISTRY_PASSWORD, or for ECR the aws CLI's (scripts/supply-chain/registry.mjs).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_FILE, SERVICES, writeImageRefs } from './image-refs.mjs';
import { openLayout, pushLayout } from './supply-chain/oci-layout.mjs';
import { parseName, Registry } from './supply-chain/registry.mjs';

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

async function main() {
  const { values } = parseArgs({
    options: {
      registry: { type: 'string' },
      tag: { type: 'string' },
      from: { type: 'string', default: 'dist/oci' },
      images: { type: 'string', default: DEFAULT_FILE },
    },
  });
  if (!values.registry) throw new Error('set --registry (a Docker Hub user, or an ECR registry)');
  if (!values.tag || !TAG.test(values.tag)) throw new Error(`--tag must be an image tag, not '${values.tag ?? ''}'`);
  const layouts = {};
  try {
    // Every image is read before any is pushed: a missing or broken one pushes nothing.
    for (const service of SERVICES) layouts[service] = openLayout(join(values.from, `${service}.tar`));
    const refs = {};
    for (const service of SERVICES) {
      const name = `${values.registry}/fibstack-${service}`;
      const { registry, repository } = parseName(name);
      const digest = await pushLayout(layouts[service], new Registry(registry, repository), values.tag);
      refs[service] = `${name}@${digest}`;
      console.log(`pushed ${name}:${values.tag} as ${refs[service]}`);
    }
    writeImageRefs(refs, values.images);
  } finally {
    for (const layout of Object.values(layouts)) layout.close();
  }
}

main().catch((error) => {
  console.error(`push-images: ${error.message}`);
  process.exit(1);
});
