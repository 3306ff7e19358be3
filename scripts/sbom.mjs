#!/usr/bin/env node
// CycloneDX SBOMs made by npm itself (`npm sbom`) from the lockfile: one per image that carries npm packages
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

/** npm's CycloneDX SBOM of the lockfile: one workspace's dependencies (production only, or all), or everything. */
export function npmSbom(workspace, { production = true } = {}) {
  const args = ['sbom', '--package-lock-only', '--sbom-format', 'cyclonedx'];
  if (workspace) args.push(...(production ? ['--omit=dev'] : []), '-w', `@fibstack/${workspace}`);
  return execFileSync('npm', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function generate(dir = 'dist/sbom') {
  mkdirSync(dir, { recursive: true });
  // The client image serves a bundle: what went into it came from the build's (development) dependencies.
  for (const service of SBOM_SERVICES)
    writeFileSync(join(dir, `${service}.cdx.json`), npmSbom(service, { production: service !== 'client' }));
  writeFileSync(join(dir, 'workspace.cdx.json'), npmSbom());
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
