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

/** The topic pages the README points to for what it no longer holds. */
const TOPIC_PAGES = ['docs/commands.md', 'docs/configuration.md', 'docs/operations.md', 'docs/troubleshooting.md'];

/** Every page a reader opens: the front door, the docs index, topics and decisions, and each folder's README. */
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  'docs/README.md',
  ...TOPIC_PAGES,
  'docs/capacity.md',
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
  'bench/README.md',
  'k8s/README.md',
  ...COMPONENT_READMES,
];

/** The front door stays a front door: what it is, how to run and test it, one request, where next. */
const FRONT_DOOR_MAX_BYTES = 12 * 1024;

/** A figure with a unit of time, size or rate, the way the benchmark reports them (`78.7 s`, `2,557 jobs/s`). */
const MEASURED_FIGURE = /\b\d[\d,.]*\s?(?:ms|µs|s|min|B|KB|KiB|MB|MiB|GB|GiB|jobs\/s|req\/s)(?![\w/])/g;

/** Text outside fenced code blocks: a `#` line in a shell example is not a heading. */
const withoutCode = (page: string) => page.replace(/^```[^\n]*\n[\s\S]*?^```$/gm, '');

/** The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces as hyphens, repeats numbered. */
function headingAnchors(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, text] of withoutCode(page).matchAll(/^#{1,6} +(.+?) *#* *$/gm)) {
    const slug = text!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count ? `${slug}-${count}` : slug);
  }
  return anchors;
}

/** The links of a page (not URLs) that name a page or a heading: each as the file from the root and its anchor. */
function links(page: string, file: string): { link: string; target: string; anchor?: string }[] {
  const base = join(root, file, '..');
  return [...withoutCode(page).matchAll(/\]\(([^)\s]*)\)/g)]
    .map((match) => match[1]!)
    .filter((link) => link && !/^[a-z]+:/.test(link))
    .map((link) => {
      const [path, anchor] = link.split('#') as [string, string | undefined];
      return { link, target: path ? relative(root, resolve(base, path)) : file, anchor };
    });
}

/** The links of `file` whose page or heading does not exist. */
function brokenLinks(file: string): string[] {
  const page = readFileSync(join(root, file), 'utf8');
  return links(page, file)
    .filter(({ target, anchor }) => {
      if (!existsSync(join(root, target))) return true;
      if (!anchor || !target.endsWith('.md')) return false;
      return !headingAnchors(readFileSync(join(root, target), 'utf8')).has(anchor);
    })
    .map(({ link }) => `${file}: ${link}`);
}

describe('README.md, the front door', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');

  it(`is at most ${FRONT_DOOR_MAX_BYTES / 1024} KB`, () => {
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(FRONT_DOOR_MAX_BYTES);
  });

  it('links the docs index, every topic page and the guides, each of which exists', () => {
    const targets = links(readme, 'README.md').map(({ target }) => target);
    expect(targets).toEqual(
      expect.arrayContaining(['docs/README.md', 'docs/concepts.md', ...TOPIC_PAGES, 'bench/README.md', 'k8s/README.md']),
    );
    expect(brokenLinks('README.md')).toEqual([]);
  });

  it('quotes no measured figure: bench/README.md holds them, each with the run it comes from', () => {
    expect(withoutCode(readme).match(MEASURED_FIGURE) ?? []).toEqual([]);
    expect('a cold build took 78.7 s, 2,557 jobs/s, 146 MB'.match(MEASURED_FIGURE)).toEqual(['78.7 s', '2,557 jobs/s', '146 MB']);
  });
});

it('reads the anchors GitHub gives headings', () => {
  expect([
    ...headingAnchors('## The developer loop (`--docker`)\n### `scripts/eb-bundle`: build it\n## A\n## A\n```sh\n# not one\n```\n'),
  ]).toEqual(['the-developer-loop---docker', 'scriptseb-bundle-build-it', 'a', 'a-1']);
});

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

  it('links only to pages and headings that exist', () => {
    expect(brokenLinks(file)).toEqual([]);
  });
});
