#!/usr/bin/env node
// CycloneDX SBOMs made by @cyclonedx/cyclonedx-npm from npm's tree and the lockfile: one per image that carries npm packages
// and one for the whole workspace, kept as build artifacts and attached to the pushed images.
//   scripts/sbom.mjs generate [DIR]          DIR (dist/sbom): server.cdx.json and worker.cdx.json (exactly the
//                                            production dependencies each image carries: tests/containers/sbom.test.ts),
//                                            client.cdx.json (every package its build used: the image holds a bundle
//                                            made from some of them), workspace.cdx.json (everything)
//   scripts/sbom.mjs attach [IMAGES] [DIR]   attach each image's SBOM to it in its registry as an OCI referrer
//                                            (artifactType application/vnd.cyclonedx+json), by dist/images.json
// The nginx edge image carries no npm package (configuration only); its OS packages are its pinned base's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_FILE, readImageRefs } from './image-refs.mjs';
import { parseReference, Registry, sha256 } from './supply-chain/registry.mjs';

export const SBOM_SERVICES = ['server', 'worker', 'client'];
export const SBOM_MEDIA_TYPE = 'application/vnd.cyclonedx+json';

/**
 * Packages npm installs in an image that its Dockerfile then deletes, with the reason: the SBOM lists what the
 * image carries (tests/containers/sbom.test.ts compares it with the image's node_modules).
 */
export const DELETED_FROM_IMAGES = {
  typescript: 'an optional peer of valibot (types only), deleted by the production-deps stage of server/ and worker/Dockerfile',
};

/**
 * CycloneDX (JSON) by @cyclonedx/cyclonedx-npm, which reads npm's own tree (npm ls) and the lockfile: one
 * workspace's production dependencies (or all of them), or the whole workspace.
 */
export function cyclonedxSbom(workspace, { production = true } = {}) {
  const args = ['cyclonedx-npm', '--output-format', 'JSON', '--flatten-components', '--output-reproducible'];
  if (workspace) args.push(...(production ? ['--omit', 'dev'] : []), '--workspace', `@fibstack/${workspace}`);
  const bom = JSON.parse(
    execFileSync('npx', ['--no-install', ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  if (workspace && production) {
    bom.components = bom.components.filter((component) => !(component.name in DELETED_FROM_IMAGES && !component.group));
  }
  return `${JSON.stringify(bom, null, 2)}\n`;
}

function generate(dir = 'dist/sbom') {
  mkdirSync(dir, { recursive: true });
  // The client image serves a bundle: what went into it came from the build's (development) dependencies.
  for (const service of SBOM_SERVICES)
    writeFileSync(join(dir, `${service}.cdx.json`), cyclonedxSbom(service, { production: service !== 'client' }));
  writeFileSync(join(dir, 'workspace.cdx.json'), cyclonedxSbom());
}

/**
 * Attaches `artifact` to the image at `reference` as an OCI 1.1 referrer (a manifest whose subject is the
 * image). A registry without the referrers API (distribution 2.8) gets the fallback the OCI spec defines: an
 * index of referrers under the tag sha256-<digest>.
 */
export async function attachArtifact(reference, artifact, artifactType) {
  const { registry: host, repository, digest } = parseReference(reference);
  const registry = new Registry(host, repository);
  const image = await registry.manifest(digest);
  if (!image) throw new Error(`${reference}: no such image in the registry`);
  const empty = Buffer.from('{}');
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', size: empty.length, digest: await registry.putBlob(empty) },
    layers: [{ mediaType: artifactType, size: artifact.length, digest: await registry.putBlob(artifact) }],
    subject: { mediaType: image.mediaType, size: image.bytes.length, digest },
  };
  // Put by its own digest: a referrer is found through its subject, not a tag.
  const { digest: manifestDigest, subjectAccepted } = await registry.putManifest(sha256(Buffer.from(JSON.stringify(manifest))), manifest);
  if (subjectAccepted) return manifestDigest;
  const fallbackTag = digest.replace(':', '-');
  const index = (await registry.manifest(fallbackTag))?.body ?? {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [],
  };
  if (!index.manifests.some((each) => each.digest === manifestDigest)) {
    index.manifests.push({
      mediaType: manifest.mediaType,
      artifactType,
      size: Buffer.byteLength(JSON.stringify(manifest)),
      digest: manifestDigest,
    });
    await registry.putManifest(fallbackTag, index);
  }
  return manifestDigest;
}

async function attach(imagesFile = DEFAULT_FILE, dir = 'dist/sbom') {
  const refs = readImageRefs(imagesFile);
  for (const service of SBOM_SERVICES) {
    const sbom = readFileSync(join(dir, `${service}.cdx.json`));
    console.log(`attached the SBOM of ${service} to ${refs[service]} as ${await attachArtifact(refs[service], sbom, SBOM_MEDIA_TYPE)}`);
  }
}

const [command, ...args] = process.argv.slice(2);
if (command === 'generate') generate(...args);
else if (command === 'attach') {
  attach(...args).catch((error) => {
    console.error(`sbom: ${error.message}`);
    process.exit(1);
  });
} else {
  console.error('usage: scripts/sbom.mjs generate [DIR] | attach [IMAGES] [DIR]');
  process.exit(2);
}
