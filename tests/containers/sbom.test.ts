import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, docker, provisionBaseImages, REPO_ROOT } from './docker.js';

interface CycloneDx {
  bomFormat: string;
  specVersion: string;
  components: Array<{ name: string; version: string; purl: string }>;
}

const dir = mkdtempSync(join(tmpdir(), 'fibstack-sbom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** name@version of an SBOM component, from its package URL (pkg:npm/%40scope/name@version). */
const packageOf = ({ purl }: { purl: string }) => decodeURIComponent(purl.replace(/^pkg:npm\//, '').replace(/\?.*$/, ''));

/** Every npm package directory under the image's /app/node_modules (nested ones and workspace links too), as name@version. */
const LIST_PACKAGES = `
const fs = require('fs'), path = require('path');
const found = new Set();
const visit = (dir) => {
  let manifest;
  try { manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')); } catch { return; }
  found.add(manifest.name + '@' + manifest.version);
  walk(path.join(fs.realpathSync(dir), 'node_modules'));
};
const walk = (dir) => {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@')) for (const scoped of fs.readdirSync(path.join(dir, entry))) visit(path.join(dir, entry, scoped));
    else visit(path.join(dir, entry));
  }
};
walk('/app/node_modules');
console.log(JSON.stringify([...found].sort()));`;

/**
 * The SBOMs scripts/sbom.mjs makes with `npm sbom` from the lockfile, checked against the images
 * `docker-compose build` makes: each lists exactly the npm packages its image carries, no more, no fewer.
 */
describe('SBOMs (scripts/sbom.mjs)', () => {
  beforeAll(async () => {
    await provisionBaseImages();
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build', 'server', 'worker'], 1_500_000);
    execFileSync('node', ['scripts/sbom.mjs', 'generate', dir], { cwd: REPO_ROOT });
  });

  const sbom = (name: string) => JSON.parse(readFileSync(join(dir, `${name}.cdx.json`), 'utf8')) as CycloneDx;

  it.each(['server', 'worker'])('lists exactly the npm packages the %s image carries', async (service) => {
    const listed = sbom(service).components.map(packageOf).sort();
    const carried = JSON.parse(
      await docker(['run', '--rm', '--user', '0', '--entrypoint', 'node', `fibstack-${service}:local`, '-e', LIST_PACKAGES]),
    ) as string[];
    expect(carried.length).toBeGreaterThan(50);
    expect({ missing: carried.filter((pkg) => !listed.includes(pkg)), extra: listed.filter((pkg) => !carried.includes(pkg)) }).toEqual({
      missing: [],
      extra: [],
    });
  });

  it('describes the whole workspace too, in CycloneDX, development tools included', () => {
    const workspace = sbom('workspace');
    expect(workspace).toMatchObject({ bomFormat: 'CycloneDX', specVersion: expect.stringMatching(/^1\.\d+$/) });
    const names = workspace.components.map(packageOf).map((pkg) => pkg.slice(0, pkg.lastIndexOf('@')));
    expect(names).toEqual(expect.arrayContaining(['vitest', 'typescript', 'express', 'bullmq', '@fibstack/client']));
    expect(
      sbom('client')
        .components.map(packageOf)
        .some((pkg) => pkg.startsWith('react@')),
    ).toBe(true);
  });
});
