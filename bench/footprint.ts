import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REPO_ROOT } from '@fibstack/devstack/stack';
import type { BenchStack } from './bench-stack.js';
import { rssMb } from './cpu.js';
import { round } from './stats.js';

const CLIENT_DIST = join(REPO_ROOT, 'client/dist');

/** KiB of `files` (relative to client/dist) gzipped, as nginx sends them. */
function gzippedKb(files: string[]): number {
  return round(files.reduce((sum, file) => sum + gzipSync(readFileSync(join(CLIENT_DIST, file))).length, 0) / 1024, 1);
}

/**
 * Memory of the idle server and worker, and the client's download: what the home page loads (the scripts
 * and styles index.html names) apart from the chunks loaded later (the detail page's).
 */
export function footprint(bench: BenchStack) {
  const html = readFileSync(join(CLIENT_DIST, 'index.html'), 'utf8');
  const referenced = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((match) => match[1]!);
  const assets = readdirSync(join(CLIENT_DIST, 'assets')).map((file) => `assets/${file}`);
  const initial = (ext: string) => referenced.filter((file) => file.endsWith(ext));
  const lazy = assets.filter((file) => /\.(js|css)$/.test(file) && !referenced.includes(file));
  return {
    idleRssMb: { server: rssMb(bench.stack.pid('server')), worker: rssMb(bench.stack.pid('worker')) },
    clientGzipKb: { js: gzippedKb(initial('.js')), css: gzippedKb(initial('.css')), lazyChunks: gzippedKb(lazy) },
  };
}
