import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EB_BUNDLE_SCRIPT = fileURLToPath(new URL('../../scripts/eb-bundle', import.meta.url));

/**
 * Runs scripts/eb-bundle as CI's deploy does, for the images of `imagesFile` (service → name@sha256:…, what
 * `scripts/release-images push` records), unzips it into `dir` and returns the compose file it holds.
 */
export function buildBundle(dir: string, imagesFile: string): string {
  const zip = join(dir, 'bundle.zip');
  execFileSync(EB_BUNDLE_SCRIPT, [zip], { env: { ...process.env, IMAGES: imagesFile } });
  const listing = execFileSync('python3', ['-m', 'zipfile', '-l', zip], { encoding: 'utf8' });
  const entries = listing
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(/\s+/)[0]);
  if (entries.join() !== 'docker-compose.yml') throw new Error(`the bundle must hold only docker-compose.yml, got ${entries.join(', ')}`);
  execFileSync('python3', ['-m', 'zipfile', '-e', zip, dir]);
  return readFileSync(join(dir, 'docker-compose.yml'), 'utf8');
}
