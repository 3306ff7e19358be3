import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TOP_LEVEL =
  /^(?:contract|service-kit|devstack|server|worker|client|nginx|k8s|kustomize|scripts|tests|bench|observability|docs|\.ci|\.devcontainer)\//;

/** Files a command writes (git-ignored), which the pages name as its output. */
// Named on purpose but absent: produced by a run, or (the signing key) made and committed by the operator, since a
// committed placeholder key would be trusted by every deploy that forgot to replace it.
const GENERATED = new Set(['bench/results/latest.json', 'kustomize/components/signed-images/cosign.pub']);

/** Each kustomize component's README (what it adds, how to enable it, how to check it). */
const COMPONENT_READMES = readdirSync(join(root, 'kustomize/components')).map((name) => `kustomize/components/${name}/README.md`);
const DECISIONS = readdirSync(join(root, 'docs/decisions'))
  .filter((name) => name !== '0000-template.md')
  .map((name) => `docs/decisions/${name}`);

/** Every page a reader opens: the front door, the docs index and decisions, and each folder's README. */
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  'docs/README.md',
  ...DECISIONS,
  'scripts/README.md',
  'tests/README.md',
  '.ci/README.md',
  'server/README.md',
  'worker/README.md',
  'client/README.md',
  'contract/README.md',
  'service-kit/README.md',
  'devstack/README.md',
  'nginx/README.md',
  ...COMPONENT_READMES,
];

/**
 * The repository paths a page names in `code` (from the root) or links to (relative to the page, or
 * from the root), without globs, placeholders or URLs, as paths from the root.
 */
function namedPaths(page: string, file: string): string[] {
  const base = join(root, file, '..');
  const inCode = [...page.matchAll(/`([^`\s]+)`/g)].map((match) => match[1]!);
  const linked = [...page.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
    .map((match) => match[1]!)
    .filter((link) => !/^[a-z]+:/.test(link))
    .flatMap((link) => [link, relative(root, resolve(base, link))]);
  return [...new Set([...inCode, ...linked])]
    .map((path) => path.replace(/[.,:;)]+$/, ''))
    .filter((path) => TOP_LEVEL.test(path) && !/[*<>…$]/.test(path) && !GENERATED.has(path));
}

it('covers every kustomize component and every decision record', () => {
  expect(COMPONENT_READMES.length).toBeGreaterThanOrEqual(7);
  expect(DECISIONS.length).toBeGreaterThanOrEqual(17); // the index and 16 records
  expect(PAGES.filter((file) => !existsSync(join(root, file)))).toEqual([]);
});

describe.each(PAGES)('%s', (file) => {
  const page = existsSync(join(root, file)) ? readFileSync(join(root, file), 'utf8') : '';

  it('names only files and folders that exist (the request walk-through, the layout, the guides)', () => {
    const paths = namedPaths(page, file);
    expect(paths.length).toBeGreaterThan(0);
    const base = join(root, file, '..');
    // README.md names paths from the root; a folder's README links relative to itself and names paths from the root.
    expect(paths.filter((path) => !existsSync(join(root, path)) && !existsSync(join(base, path)))).toEqual([]);
  });
});
