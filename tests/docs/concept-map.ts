import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads docs/concepts.md and lists what is wrong with its references, one sentence each, naming the
 * concept and the reference so whoever moved the code can fix the page in a minute.
 *
 * The page's grammar (docs/concepts.md, "How to read an entry"):
 *   ### Concept
 *   - **Where:** [path L10–20](../path#L10-L20), look for `keyword`; …
 *   - **Proof:** [tests/x.test.ts](../tests/x.test.ts) › "the test's title"; …
 *   - **Try:** `a command`
 */

export interface LineReference {
  concept: string;
  text: string;
  path: string;
  from: number;
  to: number;
  keyword: string;
}

export interface TestReference {
  concept: string;
  path: string;
  name: string;
}

export interface Concept {
  name: string;
  where: LineReference[];
  proofs: TestReference[];
  /** Links to files without a line range (another README, a test file in a sentence). */
  files: string[];
  hasWhere: boolean;
  hasProof: boolean;
  hasTry: boolean;
}

const LINE_REFERENCE = /\[([^\]]+)\]\(\.\.\/([^)#\s]+)#L(\d+)-L(\d+)\), look for `([^`]+)`/g;
const TEST_REFERENCE = /\[([^\]]+)\]\(\.\.\/([^)#\s]+)\) › "([^"]+)"/g;
const FILE_LINK = /\]\(\.\.\/([^)#\s]+)(?:#[^)\s]*)?\)/g;

export function parseConceptMap(markdown: string): Concept[] {
  const concepts: Concept[] = [];
  let current: Concept | undefined;
  for (const line of markdown.split('\n')) {
    const heading = /^### (.+)$/.exec(line);
    if (heading) {
      current = { name: heading[1]!, where: [], proofs: [], files: [], hasWhere: false, hasProof: false, hasTry: false };
      concepts.push(current);
      continue;
    }
    if (!current) continue;
    current.hasWhere ||= line.startsWith('- **Where:**');
    current.hasProof ||= line.startsWith('- **Proof:**');
    current.hasTry ||= /^- \*\*Try:\*\* .+/.test(line);
    for (const [, text, path, from, to, keyword] of line.matchAll(LINE_REFERENCE)) {
      current.where.push({ concept: current.name, text: text!, path: path!, from: Number(from), to: Number(to), keyword: keyword! });
    }
    for (const [, text, path, name] of line.matchAll(TEST_REFERENCE)) {
      current.proofs.push({ concept: current.name, path: path!, name: name! });
      if (text !== path) current.files.push(`${path} (the link says "${text}")`);
    }
    for (const [, path] of line.matchAll(FILE_LINK)) current.files.push(path!);
  }
  return concepts;
}

/** A test's title as its source spells it: quoted, with the source's escapes (\' \" \`) undone. */
function testTitles(source: string): Set<string> {
  const titles = new Set<string>();
  for (const [, , body] of source.matchAll(/\b(?:it|test|describe)(?:\.\w+)*\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1/g)) {
    titles.add(body!.replace(/\\(['"`\\])/g, '$1'));
  }
  return titles;
}

export function conceptMapProblems(root: string, markdown: string): string[] {
  const problems: string[] = [];
  const concepts = parseConceptMap(markdown);
  if (concepts.length === 0) problems.push('no "### " concept sections found');
  for (const concept of concepts) {
    const at = `"${concept.name}"`;
    if (!concept.hasWhere || concept.where.length === 0)
      problems.push(`${at}: no Where line with a [path Lx–y](../path#Lx-Ly), look for \`word\` reference`);
    if (!concept.hasProof || concept.proofs.length === 0)
      problems.push(`${at}: no Proof line naming a test: [tests/x.test.ts](../tests/x.test.ts) › "the test's title"`);
    if (!concept.hasTry) problems.push(`${at}: no Try line with a command`);

    for (const ref of concept.where) {
      const label = `${at} → ${ref.path}#L${ref.from}-L${ref.to} (look for \`${ref.keyword}\`)`;
      const expectedText = `${ref.path} L${ref.from}–${ref.to}`;
      if (ref.text !== expectedText) problems.push(`${label}: the link says "${ref.text}", the target says "${expectedText}"`);
      const file = join(root, ref.path);
      if (!existsSync(file)) {
        problems.push(`${label}: ${ref.path} does not exist`);
        continue;
      }
      const lines = readFileSync(file, 'utf8').split('\n');
      if (lines.at(-1) === '') lines.pop();
      if (ref.from < 1 || ref.to < ref.from || ref.to > lines.length) {
        problems.push(`${label}: the range is not within the file's ${lines.length} lines`);
        continue;
      }
      if (!lines.slice(ref.from - 1, ref.to).some((line) => line.includes(ref.keyword))) {
        const found = lines.flatMap((line, i) => (line.includes(ref.keyword) ? [i + 1] : []));
        problems.push(
          `${label}: lines ${ref.from}–${ref.to} do not contain it; ` +
            (found.length ? `it is now on line ${found.join(', ')}` : `it is nowhere in ${ref.path}`) +
            `; line ${ref.from} now reads: ${JSON.stringify(lines[ref.from - 1]!.trim())}`,
        );
      }
    }

    for (const ref of concept.proofs) {
      const label = `${at} → ${ref.path} › "${ref.name}"`;
      const file = join(root, ref.path);
      if (!existsSync(file)) {
        problems.push(`${label}: ${ref.path} does not exist`);
        continue;
      }
      if (!testTitles(readFileSync(file, 'utf8')).has(ref.name))
        problems.push(`${label}: no it/test/describe with that title in ${ref.path}`);
    }

    for (const path of concept.files) {
      if (path.includes(' (the link says')) problems.push(`${at} → ${path}: link text and target differ`);
      else if (!existsSync(join(root, path))) problems.push(`${at} → ../${path}: the linked file does not exist`);
    }
  }
  return problems;
}
