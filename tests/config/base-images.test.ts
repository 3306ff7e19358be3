import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  baseImages,
  COMPOSE_FILE,
  composeReferences,
  DOCKERFILE,
  dockerfileBases,
  manifestImages,
  PINNED,
  trackedFiles,
} from '../support/image-references.js';
import { IMAGE_PLACEHOLDER, OWN_IMAGE } from '../support/k8s-manifests.js';
import { REPO } from '../support/kustomize-render.js';

/**
 * Images excepted from pinning, by name, each with the reason. Nothing else may run by tag.
 * - fibstack-<service>:local and fibstack-dev:local in compose: built from this checkout by the same file's
 *   `build:`, never pulled.
 * - YOUR_REGISTRY/fibstack-<service>:COMMIT_SHA in k8s/ (and fibstack-<service>:local in the local overlay):
 *   placeholders the deploy paths replace with the released digests (dist/images.json, scripts/image-refs.mjs,
 *   scripts/set-images); tests/k8s/deploy-eks.test.ts checks what a deploy applies.
 */
const BUILT_HERE = new RegExp(`${OWN_IMAGE.source}|${IMAGE_PLACEHOLDER.source}|^fibstack-dev:local$`);

const images = baseImages();
const pinnedRefs = new Set(Object.values(images));
/** A reference is pinned when it is name:tag@sha256:… and exactly the one base-images.json declares for it. */
function unpinned(references: Array<{ where: string; image: string }>) {
  return references.filter(({ image }) => !pinnedRefs.has(image)).map(({ where, image }) => `${where}: ${image}`);
}

describe('base images: pinned by digest, declared once (base-images.json)', () => {
  it('declares each image as name:tag@sha256:<digest>, once per repository', () => {
    const repositories = Object.values(images).map((image) => PINNED.exec(image)?.groups?.repository);
    expect(Object.entries(images).filter(([, image]) => !PINNED.test(image))).toEqual([]);
    expect(new Set(repositories).size).toBe(repositories.length);
  });

  it('builds every Dockerfile stage from a declared, pinned base', () => {
    const files = trackedFiles(DOCKERFILE);
    expect(files).toEqual(expect.arrayContaining(['server/Dockerfile', 'worker/Dockerfile', 'client/Dockerfile', 'nginx/Dockerfile']));
    expect(files).toEqual(expect.arrayContaining(['Dockerfile.dev', '.devcontainer/Dockerfile']));
    const bases = files.flatMap((file) =>
      dockerfileBases(readFileSync(join(REPO, file), 'utf8')).map((image) => ({ where: `${file} FROM`, image })),
    );
    expect(bases.length).toBeGreaterThanOrEqual(files.length);
    expect(unpinned(bases)).toEqual([]);
  });

  it('runs every compose image, and builds with every base argument, by a declared digest (own images excepted)', () => {
    const files = trackedFiles(COMPOSE_FILE);
    expect(files).toEqual(expect.arrayContaining(['docker-compose.yml', 'docker-compose.dev.yml']));
    const references = files.flatMap((file) => {
      const { images: used, buildArgs } = composeReferences(file);
      return [
        ...used.filter((image) => !BUILT_HERE.test(image)).map((image) => ({ where: `${file} image`, image })),
        ...buildArgs.map((image) => ({ where: `${file} build arg`, image })),
      ];
    });
    expect(references.map(({ image }) => image)).toEqual(
      expect.arrayContaining([images.postgres, images.redis, images.node, images.nginx]),
    );
    expect(unpinned(references)).toEqual([]);
  });

  it('runs every manifest image by a declared digest, but the app images the deploy paths set', () => {
    const references = manifestImages().filter(({ image }) => !BUILT_HERE.test(image));
    expect(references.map(({ image }) => image)).toEqual(expect.arrayContaining([images.postgres, images.redis]));
    expect(unpinned(references.map(({ file, image }) => ({ where: file, image })))).toEqual([]);
  });

  it('runs the privileged arm64 emulator of scripts/release-images from the declared digest', () => {
    const script = readFileSync(join(REPO, 'scripts/release-images'), 'utf8');
    expect(script).toContain(`docker run --privileged --rm "$(node -p "require('./base-images.json').binfmt")" --install arm64`);
    expect(script).not.toMatch(/tonistiigi\/binfmt/);
  });

  it('declares nothing that no file uses', () => {
    const used = new Set([
      ...trackedFiles(DOCKERFILE).flatMap((file) => dockerfileBases(readFileSync(join(REPO, file), 'utf8'))),
      ...trackedFiles(COMPOSE_FILE).flatMap((file) => Object.values(composeReferences(file)).flat()),
      ...manifestImages().map(({ image }) => image),
    ]);
    expect(Object.entries(images).filter(([role, image]) => role !== 'binfmt' && !used.has(image))).toEqual([]);
  });
});
