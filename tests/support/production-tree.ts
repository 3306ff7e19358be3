import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The packages in a workspace's production dependency tree as the lockfile resolves it (what
 * `npm ci --omit=dev` installs for its image), by name.
 */
export function productionTree(workspace: 'server' | 'worker' | 'client'): Set<string> {
  return new Set(
    execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '-w', `@fibstack/${workspace}`], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\n')
      .map((path) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(path)?.[1])
      .filter((name) => name !== undefined),
  );
}
