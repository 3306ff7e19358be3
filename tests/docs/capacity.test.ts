import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { baseBounds, boundProblems, unitCostsFrom } from '../../bench/capacity/model.js';
import { blockNames, renderBlocks } from '../../bench/capacity/page.js';
import { CAPACITY_PAGE, LATEST_RESULTS, renderedCapacityPage } from '../../bench/capacity/render.js';
import { sizingFromRepository } from '../../bench/capacity/sizing.js';

const results = JSON.parse(readFileSync(LATEST_RESULTS, 'utf8')) as { machine: { command: string } };
const sizing = sizingFromRepository();
const bounds = baseBounds(unitCostsFrom(results), sizing);

describe('the capacity model (docs/capacity.md)', () => {
  it('reads the committed results of a full `npm run bench`, not a smoke or partial run', () => {
    expect(results.machine.command).toMatch(/^npm run bench(?: -- --docker)?$/);
  });

  it('has every table on the page rendered from bench/results/latest.json and the manifests, as they are now', () => {
    const page = readFileSync(CAPACITY_PAGE, 'utf8');
    expect(blockNames(page).sort()).toEqual(Object.keys(renderBlocks(results, sizing)).sort());
    // Differs after a bench run, a manifest change or an edit between the markers: `npm run capacity` renders it again.
    expect(page).toBe(renderedCapacityPage());
  });

  it('keeps every autoscaler maximum between what 2,000 submissions/s need by the latest costs and twice that', () => {
    expect(Object.keys(sizing.maxima)).toHaveLength(3);
    expect(boundProblems(bounds, sizing.maxima)).toEqual([]);
  });

  it('names a maximum too small for the target, and one oversized, with the bound the model gives', () => {
    const problems = boundProblems(bounds, {
      'server HPA': { name: 'server', max: bounds.server.least - 1 },
      'worker ScaledObject': { name: 'worker', max: bounds.worker.most + 1 },
    });
    expect(problems).toEqual([
      expect.stringMatching(
        new RegExp(`^server HPA: ${bounds.server.least - 1} pods cannot carry 2000 .* says ${bounds.server.recommended}\\)$`),
      ),
      expect.stringMatching(
        new RegExp(`^worker ScaledObject: ${bounds.worker.most + 1} pods is more than 2× .* says ${bounds.worker.recommended}\\)$`),
      ),
    ]);
  });

  it('refuses results that lack a unit cost, naming it', () => {
    const { pipeline: _, ...partial } = results as unknown as Record<string, unknown>;
    expect(() => unitCostsFrom(partial)).toThrow(/lack what the capacity model reads \(pipeline\)/);
  });
});
