import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { productionTree } from '../support/production-tree.js';
import { fileURLToPath } from 'node:url';

/**
 * README ("Test it"): Node.js ≥ 20.19 runs and develops fibstack. The only installed packages that ask for
 * more are the Kubernetes schema models `npm run test:k8s` validates with; they declare Node ≥ 22 and run on
 * 20 (CI runs on 20). This keeps that sentence true.
 */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEST_ONLY_NEWER_NODE = /^(kubernetes-models|@kubernetes-models\/.+)$/;

function installedPackages(): Array<{ name: string; engines?: { node?: string } }> {
  const root = join(REPO_ROOT, 'node_modules');
  const folders = readdirSync(root).flatMap((name) =>
    name.startsWith('@') ? readdirSync(join(root, name)).map((inner) => join(name, inner)) : name.startsWith('.') ? [] : [name],
  );
  return folders
    .map((folder) => join(root, folder, 'package.json'))
    .filter((manifest) => existsSync(manifest))
    .map((manifest) => JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; engines?: { node?: string } });
}

describe('Node.js versions', () => {
  const minimum = semver.minVersion(
    (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node,
  )!;

  it('only the test-only Kubernetes schema models ask for a newer Node.js than engines', () => {
    const newer = installedPackages().filter(({ engines }) => engines?.node && !semver.satisfies(minimum, engines.node));
    expect(newer.length).toBeGreaterThan(0);
    expect(newer.map(({ name }) => name).filter((name) => !TEST_ONLY_NEWER_NODE.test(name))).toEqual([]);
  });

  // Three `npm ls` runs: a few seconds each on a busy two-core machine, more than Vitest's default 5 s in all.
  it('and none of them is in a service production dependency tree', { timeout: 60_000 }, () => {
    for (const workspace of ['server', 'worker', 'client'] as const) {
      expect([...productionTree(workspace)].filter((name) => TEST_ONLY_NEWER_NODE.test(name))).toEqual([]);
    }
  });
});
