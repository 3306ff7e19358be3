import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '@fibstack/devstack/stack';
import type { BenchStack } from './bench-stack.js';
import { rssMb } from './cpu.js';
import { round } from './stats.js';

/** Memory of the idle server and worker, and the client's initial download (gzipped, as nginx sends it). */
export function footprint(bench: BenchStack) {
  const assets = join(REPO_ROOT, 'client/dist/assets');
  const gzipped = (ext: string) =>
    readdirSync(assets)
      .filter((file) => file.endsWith(ext))
      .reduce((sum, file) => sum + gzipSync(readFileSync(join(assets, file))).length, 0);
  return {
    idleRssMb: { server: rssMb(bench.stack.pid('server')), worker: rssMb(bench.stack.pid('worker')) },
    clientGzipKb: { js: round(gzipped('.js') / 1024, 1), css: round(gzipped('.css') / 1024, 1) },
  };
}
