import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The deliberately failing run of .ci/run (see canary.test.ts); never part of `npm test`. */
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['.ci/canary/*.test.ts'],
    globalSetup: ['devstack/src/vitest-postgres.ts'],
    reporters: ['default', 'json'],
    outputFile: { json: `${process.env.FIBSTACK_TEST_REPORT_DIR ?? '.'}/canary.json` },
  },
});
