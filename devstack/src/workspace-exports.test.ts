import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = join(import.meta.dirname, '../..');
/** The workspaces other packages import; the dev runs load them from source (README, Develop). */
const SHARED = ['contract', 'service-kit', 'devstack'];

type Exports = Record<string, { development?: string; types?: string; default?: string }>;

describe.each(SHARED)('%s/package.json exports', (workspace) => {
  const { exports } = JSON.parse(readFileSync(join(REPO_ROOT, workspace, 'package.json'), 'utf8')) as { exports: Exports };

  it.each(Object.keys(exports))('%s has a development entry naming its TypeScript source, beside the built one', (subpath) => {
    const entry = exports[subpath]!;
    // Without it the dev runs, Vite and Vitest fall back to dist/, which is stale or absent in a fresh clone.
    expect(entry.development, `${workspace} ${subpath}: no "development" condition`).toMatch(/^\.\/src\/.+\.ts$/);
    expect(existsSync(join(REPO_ROOT, workspace, entry.development!)), `${workspace}/${entry.development} is missing`).toBe(true);
    const source = entry.development!.replace(/^\.\/src\//, '').replace(/\.ts$/, '');
    expect(entry.default).toBe(`./dist/${source}.js`);
    expect(entry.types).toBe(`./dist/${source}.d.ts`);
  });
});
