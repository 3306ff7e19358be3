import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@fibstack/devstack/stack';
import { fillPage, renderBlocks } from './page.js';
import { sizingFromRepository } from './sizing.js';

export const CAPACITY_PAGE = join(REPO_ROOT, 'docs/capacity.md');
export const LATEST_RESULTS = join(REPO_ROOT, 'bench/results/latest.json');

/** The page as the latest results and the manifests make it. */
export function renderedCapacityPage(): string {
  const results = JSON.parse(readFileSync(LATEST_RESULTS, 'utf8')) as Record<string, unknown>;
  return fillPage(readFileSync(CAPACITY_PAGE, 'utf8'), renderBlocks(results, sizingFromRepository()));
}

/** Writes docs/capacity.md's tables; returns what it did, for the log. */
export function renderCapacityPage(): string {
  writeFileSync(CAPACITY_PAGE, renderedCapacityPage());
  return `capacity model: ${CAPACITY_PAGE} rendered from ${LATEST_RESULTS}`;
}
