// An OCI image layout, as `docker buildx build --output type=oci,dest=FILE` writes it (a tar), pushed to a
// registry byte for byte: every blob and manifest as it was built, so the digest that is pushed (and then
// signed and deployed) is the digest that was built and tested, in another job that held no credentials.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANIFEST_TYPES, sha256 } from './registry.mjs';

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];

export class LayoutError extends Error {}

/**
 * Opens the layout in `tarFile`: its one top-level manifest (an image index for a multi-platform build) and
 * its blobs, each checked against its digest. close() removes the unpacked copy.
 */
export function openLayout(tarFile) {
  const dir = mkdtempSync(join(tmpdir(), 'oci-layout-'));
  try {
    execFileSync('tar', ['-xf', tarFile, '-C', dir]);
    const layout = JSON.parse(readFileSync(join(dir, 'oci-layout'), 'utf8'));
    if (layout.imageLayoutVersion !== '1.0.0') throw new LayoutError(`${tarFile}: not an OCI image layout 1.0.0`);
    const { manifests = [] } = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    if (manifests.length !== 1) throw new LayoutError(`${tarFile}: holds ${manifests.length} images, not one`);
    const [top] = manifests;
    if (!MANIFEST_TYPES.includes(top.mediaType)) throw new LayoutError(`${tarFile}: its image is a ${top.mediaType}`);
    const blob = (digest) => {
      let bytes;
      try {
        bytes = readFileSync(join(dir, 'blobs', ...digest.split(':')));
      } catch {
        throw new LayoutError(`${tarFile}: lacks the blob ${digest}`);
      }
      if (sha256(bytes) !== digest) throw new LayoutError(`${tarFile}: the blob ${digest} does not match its digest`);
      return bytes;
    };
    // Complete and intact before anything is pushed: a push never stops half-way on a missing blob.
    for (const each of walk(top, blob)) blob(each.digest);
    return { top, blob, close: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    if (error instanceof LayoutError) throw error;
    throw new LayoutError(`${tarFile}: not a readable OCI image layout (${error.message})`);
  }
}

/** The descriptors of `descriptor`'s manifest tree, children before their parent, the blobs of each manifest before it. */
function* walk(descriptor, blob) {
  const manifest = JSON.parse(blob(descriptor.digest).toString('utf8'));
  if (INDEX_TYPES.includes(descriptor.mediaType)) for (const child of manifest.manifests) yield* walk(child, blob);
  else yield* [manifest.config, ...manifest.layers];
  yield descriptor;
}

/**
 * Pushes `layout` to `registry` (a Registry) and tags its top manifest `tag`: blobs first, then each
 * manifest by its digest before the index that lists it (registries refuse an index of unknown manifests).
 * Returns the top manifest's digest.
 */
export async function pushLayout(layout, registry, tag) {
  for (const descriptor of walk(layout.top, layout.blob)) {
    const bytes = layout.blob(descriptor.digest);
    if (!MANIFEST_TYPES.includes(descriptor.mediaType)) await registry.putBlob(bytes);
    else await registry.putManifestBytes(descriptor === layout.top ? tag : descriptor.digest, bytes, descriptor.mediaType);
  }
  return layout.top.digest;
}
