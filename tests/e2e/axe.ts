import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AxeResults, Result } from 'axe-core';
import type { Page } from 'playwright-core';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG 2.1 A and AA, plus WCAG 2.2's target size (2.5.8), the one AA rule axe adds for 2.2. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export interface AxeSummary {
  violations: string[];
  passes: number;
  incomplete: string[];
}

const describe = (results: Result[]) =>
  results.map((rule) => `${rule.id} (${rule.impact ?? 'n/a'}): ${rule.nodes.map((node) => node.target.join(' ')).join(', ')}`);

/**
 * Runs axe-core in the page as it is now. The source goes in through the DevTools protocol
 * (`evaluate`), not a script tag, so the page's strict CSP stays in force while it is checked.
 */
export async function runAxe(page: Page): Promise<AxeSummary> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axeSource);
  const results = await page.evaluate(
    (tags) =>
      (window as unknown as { axe: { run: (context: Document, options: object) => Promise<AxeResults> } }).axe.run(document, {
        runOnly: { type: 'tag', values: tags },
        resultTypes: ['violations', 'incomplete'],
      }),
    WCAG_TAGS,
  );
  return { violations: describe(results.violations), passes: results.passes.length, incomplete: describe(results.incomplete) };
}
