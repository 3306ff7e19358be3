import { defineConfig } from 'vitest/config';

const withPostgres = ['devstack/src/vitest-postgres.ts'];

/**
 * One Vitest config covers every workspace and every cross-service suite. Projects that touch Postgres
 * share one real server per run (global setup); each test file makes its own database and redis-server.
 */
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'contract', include: ['contract/src/**/*.test.ts'] } },
      { test: { name: 'service-kit', include: ['service-kit/src/**/*.test.ts'], globalSetup: withPostgres } },
      {
        test: {
          name: 'server',
          include: ['server/src/**/*.test.ts'],
          globalSetup: withPostgres,
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'worker',
          include: ['worker/src/**/*.test.ts'],
          globalSetup: withPostgres,
          testTimeout: 60_000,
          hookTimeout: 30_000,
        },
      },
      'client/vite.config.ts',
      { test: { name: 'k8s', include: ['tests/k8s/**/*.test.ts'] } },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'bench',
          include: ['bench/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'chaos',
          include: ['tests/chaos/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'containers',
          include: ['tests/containers/**/*.test.ts'],
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
