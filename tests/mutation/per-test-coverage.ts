import { afterAll, inject } from 'vitest';

/**
 * Hands StrykerJS its per-test coverage and hit counts. Its own setup file reads the file task from the
 * hook's first argument, which Vitest 4 reserves for fixtures (the task is the second), so without this
 * every mutant would be run against every test.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    globalNamespace: string;
    mode: 'dry-run' | 'mutant';
  }
  export interface TaskMeta {
    mutantCoverage?: unknown;
    hitCount?: number;
  }
}

const namespace = inject('globalNamespace');
// eslint-disable-next-line no-empty-pattern -- Vitest requires the (unused) fixture context to be a destructuring pattern
afterAll(({}, suite) => {
  const stryker = (globalThis as unknown as Record<string, { mutantCoverage?: unknown; hitCount?: number } | undefined>)[namespace];
  if (inject('mode') === 'mutant') suite.meta.hitCount = stryker?.hitCount;
  else suite.meta.mutantCoverage = stryker?.mutantCoverage;
});
