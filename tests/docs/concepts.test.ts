import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { conceptMapProblems, parseConceptMap } from './concept-map.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const page = readFileSync(`${root}docs/concepts.md`, 'utf8');

describe('docs/concepts.md', () => {
  it('covers every idea the course teaches, each with a place in the code, a test and a command', () => {
    const names = parseConceptMap(page).map((concept) => concept.name.toLowerCase());
    for (const idea of [
      'image vs container',
      'layers and cache busting',
      'multi-stage builds',
      'port mapping',
      'bind mounts vs named volumes',
      'environment and secrets',
      'restart policies',
      'service discovery',
      'sigterm vs sigkill',
      'pushing images',
      'travis ci → elastic beanstalk',
      'pods and deployments',
      'services',
      'configmaps and secrets',
      'probes and self-healing',
      'rolling updates and rollback',
      'horizontalpodautoscaler',
      'storage',
      'jobs for batch work',
      'node placement',
      'networkpolicies',
      'gateway api',
      'kustomize overlays and components',
      'keda',
      'cronjob backup',
    ]) {
      expect(
        names.some((name) => name.includes(idea)),
        idea,
      ).toBe(true);
    }
  });

  it('references only files, line ranges holding their keyword, and test titles that exist', () => {
    const problems = conceptMapProblems(root, page);
    // One line per broken reference, saying what to change in docs/concepts.md.
    expect(problems, `docs/concepts.md:\n  ${problems.join('\n  ')}\n`).toEqual([]);
  });

  it('links every concept of its index table to a section of the page', () => {
    const anchors = new Set(
      parseConceptMap(page).map((concept) =>
        concept.name
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      ),
    );
    const links = [...page.matchAll(/\]\(#([^)]+)\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });
});

describe('the concept map check itself', () => {
  const entry = (where: string, proof: string) =>
    `### A concept\nWords.\n- **Where:** ${where}\n- **Proof:** ${proof}\n- **Try:** \`ls\`\n`;
  const goodWhere = '[docker-compose.yml L1–3](../docker-compose.yml#L1-L3), look for `docker-compose up`';
  const goodProof =
    '[tests/config/compose-files.test.ts](../tests/config/compose-files.test.ts) › "starts server and worker only after migrations and healthy stores"';

  it('accepts a good entry', () => {
    expect(conceptMapProblems(root, entry(goodWhere, goodProof))).toEqual([]);
  });

  it('names the entry, the keyword and where it went when a range has drifted', () => {
    const drifted = '[docker-compose.yml L1–3](../docker-compose.yml#L1-L3), look for `postgres-data:/var/lib/postgresql/data`';
    const [problem, ...rest] = conceptMapProblems(root, entry(drifted, goodProof));
    expect(rest).toEqual([]);
    expect(problem).toMatch(
      /^"A concept" → docker-compose\.yml#L1-L3 \(look for `postgres-data:\/var\/lib\/postgresql\/data`\): lines 1–3 do not contain it; it is now on line \d+; line 1 now reads: /,
    );
  });

  it('reports a Proof that names no test', () => {
    expect(conceptMapProblems(root, entry(goodWhere, 'none.'))).toEqual([
      '"A concept": no Proof line naming a test: [tests/x.test.ts](../tests/x.test.ts) › "the test\'s title"',
    ]);
  });

  it('reports a file that does not exist, a range past its end, a test title that does not exist and a missing part', () => {
    const problems = conceptMapProblems(
      root,
      entry(
        '[gone.yml L1–2](../gone.yml#L1-L2), look for `x`; [docker-compose.yml L1–99999](../docker-compose.yml#L1-L99999), look for `x`',
        '[tests/config/compose-files.test.ts](../tests/config/compose-files.test.ts) › "a test nobody wrote"',
      ).replace(/- \*\*Try:\*\*.*\n/, ''),
    );
    expect(problems).toEqual([
      '"A concept": no Try line with a command',
      '"A concept" → gone.yml#L1-L2 (look for `x`): gone.yml does not exist',
      expect.stringMatching(/^"A concept" → docker-compose\.yml#L1-L99999 \(look for `x`\): the range is not within the file's \d+ lines$/),
      '"A concept" → tests/config/compose-files.test.ts › "a test nobody wrote": no it/test/describe with that title in tests/config/compose-files.test.ts',
      '"A concept" → ../gone.yml: the linked file does not exist',
    ]);
  });

  it('reads titles with escaped quotes as the test runner shows them', () => {
    const proof =
      '[tests/k8s/manifests.test.ts](../tests/k8s/manifests.test.ts) › "provisions encrypted gp3 EBS volumes in the pod\'s zone through the EBS CSI driver, expandable and kept on delete"';
    expect(conceptMapProblems(root, entry(goodWhere, proof))).toEqual([]);
  });
});
