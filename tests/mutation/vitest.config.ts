import { defineConfig } from 'vitest/config';

const withPostgres = ['devstack/src/vitest-postgres.ts'];
const setupFiles = ['tests/mutation/per-test-coverage.ts'];

/**
 * The tests StrykerJS runs against each mutant (stryker.config.mjs): those that exercise the mutated code
 * in this process. Suites that run the built processes (`entrypoints.test.ts`, `worker.test.ts`) test
 * dist/, which no mutant reaches, so they would only cost time here; they run in `npm test`.
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'contract', include: ['contract/src/**/*.test.ts'], setupFiles } },
      { test: { name: 'service-kit', include: ['service-kit/src/batch.test.ts'], setupFiles } },
      {
        test: {
          name: 'server',
          include: ['server/src/**/*.test.ts'],
          exclude: ['server/src/entrypoints.test.ts'],
          globalSetup: withPostgres,
          setupFiles,
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'worker',
          include: ['worker/src/jobs/*.test.ts', 'worker/src/reconcile/*.test.ts'],
          exclude: ['worker/src/jobs/worker.test.ts'],
          globalSetup: withPostgres,
          setupFiles,
          testTimeout: 60_000,
          hookTimeout: 30_000,
        },
      },
    ],
  },
});
