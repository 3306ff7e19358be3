import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/**
 * Vitest global setup for the server and worker projects, whose tests also run the compiled entry points
 * as production does (`node dist/main.js`). Compiles them and the shared packages they import first, so
 * `npm run test:unit` works right after `npm ci` and never tests stale output.
 */
export default async function setup(project: TestProject) {
  for (const workspace of ['contract', 'service-kit', project.name]) {
    await promisify(execFile)(process.execPath, [tsc, '-p', join(REPO_ROOT, workspace, 'tsconfig.build.json')]);
  }
}
