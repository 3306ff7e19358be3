import { defineConfig } from 'vitest/config';

const withPostgres = ['devstack/src/vitest-postgres.ts'];
/** The server and worker tests also run their compiled entry points, so those are built first. */
const withBuild = ['devstack/src/vitest-build.ts'];

/** .ci/run sets this to collect a JSON report of every run, which it then checks (.ci/check-test-reports.mjs). */
const reportDir = process.env.FIBSTACK_TEST_REPORT_DIR;

/**
 * One Vitest config covers every workspace and every cross-service suite. Projects that touch Postgres
 * share one real server per run (global setup); each test file makes its own database and redis-server.
 */
export default defineConfig({
  test: {
    ...(reportDir && {
      reporters: ['default', 'json'],
      outputFile: { json: `${reportDir}/vitest-${process.pid}.json` },
    }),
    projects: [
      { test: { name: 'contract', include: ['contract/src/**/*.test.ts'] } },
      // Its tests start real Postgres and Redis servers (initdb alone takes seconds on a busy machine).
      { test: { name: 'devstack', include: ['devstack/src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: 'service-kit', include: ['service-kit/src/**/*.test.ts'], globalSetup: withPostgres } },
      {
        test: {
          name: 'server',
          include: ['server/src/**/*.test.ts'],
          globalSetup: [...withBuild, ...withPostgres],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'worker',
          include: ['worker/src/**/*.test.ts'],
          globalSetup: [...withBuild, ...withPostgres],
          testTimeout: 60_000,
          hookTimeout: 30_000,
        },
      },
      'client/vite.config.ts',
      { test: { name: 'nginx', include: ['tests/nginx/**/*.test.ts'] } },
      { test: { name: 'k8s', include: ['tests/k8s/**/*.test.ts'] } },
      { test: { name: 'config', include: ['tests/config/**/*.test.ts'] } },
      { test: { name: 'docs', include: ['tests/docs/**/*.test.ts'] } },
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
          name: 'observability',
          include: ['tests/observability/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'hostile',
          include: ['tests/hostile/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'scale',
          include: ['tests/scale/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'native',
          include: ['tests/native/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 900_000,
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
          // Removes the images the suite built once it is over.
          globalSetup: ['tests/containers/own-images.ts'],
          testTimeout: 900_000,
          hookTimeout: 1_800_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
