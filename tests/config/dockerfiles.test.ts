import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SERVER_NODE_FLAGS } from '@fibstack/devstack/stack';
import { baseImages } from '../support/image-references.js';

const read = (file: string) => readFileSync(fileURLToPath(new URL(`../../${file}`, import.meta.url)), 'utf8');
/** Every image that runs or builds with Node.js: the production ones, the dev compose's and the dev container. */
const NODE_IMAGES = ['server/Dockerfile', 'worker/Dockerfile', 'client/Dockerfile', 'Dockerfile.dev', '.devcontainer/Dockerfile'];

describe('production Dockerfiles', () => {
  it('build every Node stage from the one pinned Node base (base-images.json), the major CI tests with', () => {
    const node = baseImages().node!;
    for (const file of NODE_IMAGES) {
      const lines = read(file).split('\n');
      const declared = lines.filter((line) => /^ARG NODE_IMAGE=/.test(line));
      expect(declared, file).toEqual([`ARG NODE_IMAGE=${node}`]);
      const nodeStages = lines.filter((line) => /^FROM \$\{NODE_IMAGE\}/.test(line));
      expect(nodeStages.length, file).toBeGreaterThan(0);
      for (const stage of nodeStages) expect(stage, file).toMatch(/^FROM \$\{NODE_IMAGE\}( AS [\w-]+)?$/);
      expect(
        lines.filter((line) => /^FROM node:/.test(line)),
        file,
      ).toEqual([]);
      expect(lines.indexOf(declared[0]!), file).toBeLessThan(lines.findIndex((line) => line.startsWith('FROM ')));
    }
    const major = Number(/^node:(\d+)-/.exec(node)![1]);
    expect(String((parse(read('.travis.yml')) as { node_js: string }).node_js)).toBe(String(major));
    const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(major).toBeGreaterThanOrEqual(Number(/>=\s*(\d+)/.exec(engines)![1]));
  });

  it('build the server and the worker the same way: the files differ only in the service, its port and its heap settings', () => {
    const worker = read('worker/Dockerfile').replaceAll('worker', 'server').replace('# Worker image.', '# API server image.').split('\n');
    const server = read('server/Dockerfile').split('\n');
    expect(worker.filter((line) => !server.includes(line))).toEqual([
      'EXPOSE 9090',
      'CMD ["node", "--import", "@fibstack/service-kit/tracing/preload", "dist/main.js"]',
    ]);
    expect(server.filter((line) => !worker.includes(line))).toEqual([
      'EXPOSE 5000',
      '# The heap is capped to fit the 256 MiB container limit (k8s/30-server.yaml): without a cap V8 lets',
      '# garbage pile up on a big host (RSS 190 MB under load measured natively; 127 MB with the cap). Under a',
      '# cap that small V8 lets the heap grow only ~1.3x between full collections, and marking it again and',
      "# again cost a fifth of the server's CPU per request (npm run bench): letting it double keeps the cap",
      '# and costs 9 MB of RSS under load (136 MB).',
      'CMD ["node", "--max-old-space-size=128", "--heap-growing-percent=100", "--import", "@fibstack/service-kit/tracing/preload", "dist/main.js"]',
    ]);
  });

  it('run the server with the heap flags its package, the native stack and the bench use', () => {
    const cmd = JSON.parse(/^CMD (.*)$/m.exec(read('server/Dockerfile'))![1]!) as string[];
    const start = (JSON.parse(read('server/package.json')) as { scripts: { start: string } }).scripts.start.split(' ');
    const heapFlags = (args: string[]) => args.filter((arg) => /^--(max-old-space-size|heap-growing-percent)=/.test(arg));
    expect(heapFlags(cmd)).toEqual(SERVER_NODE_FLAGS);
    expect(heapFlags(start)).toEqual(SERVER_NODE_FLAGS);
  });
});
