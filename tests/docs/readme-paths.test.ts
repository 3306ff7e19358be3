import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const TOP_LEVEL =
  /^(?:contract|service-kit|devstack|server|worker|client|nginx|k8s|kustomize|scripts|tests|bench|observability|docs|\.ci|\.devcontainer)\//;

/** Files a command writes (git-ignored), which the pages name as its output. */
const GENERATED = new Set(['bench/results/latest.json']);

/** The repository paths a page names in `code` or links to, without globs, placeholders or URLs. */
function namedPaths(page: string): string[] {
  const inCode = [...page.matchAll(/`([^`\s]+)`/g)].map((match) => match[1]!);
  const linked = [...page.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((match) => match[1]!);
  return [...new Set([...inCode, ...linked])]
    .map((path) => path.replace(/[.,:;)]+$/, ''))
    .filter((path) => TOP_LEVEL.test(path) && !/[*<>…$]/.test(path) && !GENERATED.has(path));
}

describe.each(['README.md', 'scripts/README.md', 'tests/README.md'])('%s', (file) => {
  const page = readFileSync(join(root, file), 'utf8');

  it('names only files and folders that exist (the request walk-through, the layout, the guides)', () => {
    const paths = namedPaths(page);
    expect(paths.length).toBeGreaterThan(3);
    const base = join(root, file, '..');
    // README.md names paths from the root; a folder's README links relative to itself and names paths from the root.
    expect(paths.filter((path) => !existsSync(join(root, path)) && !existsSync(join(base, path)))).toEqual([]);
  });
});
