import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { productionTree } from '../support/production-tree.js';
import { copyOfRepository, edit } from '../support/checkout.js';
import { baseImageBuildArgs, compose, docker, provisionBaseImages, REPO_ROOT } from './docker.js';

const manifest = (path: string) =>
  JSON.parse(readFileSync(join(REPO_ROOT, path), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };

/** Packages only development needs: every workspace's devDependencies and the root's tooling. */
const DEV_ONLY = [
  ...new Set(
    [
      'package.json',
      'contract/package.json',
      'service-kit/package.json',
      'devstack/package.json',
      'server/package.json',
      'worker/package.json',
    ]
      .flatMap((path) => Object.keys(manifest(path).devDependencies ?? {}))
      .filter(
        (name) =>
          !['server', 'worker', 'contract', 'service-kit'].some(
            (workspace) => name in (manifest(`${workspace}/package.json`).dependencies ?? {}),
          ),
      ),
  ),
];

/** Runs a shell command in a fresh container of `image` as root (to see every directory) and returns its output. */
const inImage = (image: string, script: string) => docker(['run', '--rm', '--user', '0', '--entrypoint', 'sh', image, '-c', script]);

/**
 * What the production images hold, checked in the images `docker-compose up --build` makes: production
 * dependencies only, no npm cache, no sources or tests, nothing left by the build.
 */
describe('production images', () => {
  beforeAll(async () => {
    await provisionBaseImages();
    await compose({ name: 'fibstack-test', files: ['docker-compose.yml'] }, ['build'], 900_000);
  });

  describe.each([['server'], ['worker']] as const)('%s', (service) => {
    const image = `fibstack-${service}:local`;

    it('holds production dependencies only', async () => {
      expect(DEV_ONLY).toEqual(expect.arrayContaining(['typescript', 'vitest', 'tsx', '@types/node']));
      const installed = (await inImage(image, 'cd /app/node_modules && ls -d * @*/*')).split('\n');
      // A development tool may also be a production dependency's dependency (TypeScript is a peer of
      // bull-board's valibot; @types/pg comes with the pg instrumentation), and then it belongs in the image.
      const needed = productionTree(service);
      expect(needed.has('vitest')).toBe(false);
      expect(installed.filter((name) => DEV_ONLY.includes(name) && !needed.has(name))).toEqual([]);
      for (const dependency of Object.keys(manifest(`${service}/package.json`).dependencies ?? {})) {
        expect(installed).toContain(dependency);
      }
    });

    it('holds no npm cache, none of our sources or tests, and no type declarations or source maps', async () => {
      const leftovers = await inImage(
        image,
        `ls -A /root/.npm /home/node/.npm 2>/dev/null;
         find /app -path /app/node_modules -prune -o \\( -name src -o -name '*.test.*' -o -name 'tsconfig*.json' -o -name '*.ts' -o -name '*.map' \\) -print;
         find /app/node_modules -type f \\( -name '*.ts' -o -name '*.map' \\)`,
      );
      expect(leftovers).toBe('');
      expect(await inImage(image, `ls /app/${service}`)).toBe('dist\npackage.json');
    });

    it('runs as the non-root node user', async () => {
      expect(await docker(['image', 'inspect', '-f', '{{.Config.User}}', image])).toBe('node');
    });
  });

  it('serves the client from built files only', async () => {
    const files = await inImage('fibstack-client:local', 'find /usr/share/nginx/html -type f');
    expect(files).toContain('/usr/share/nginx/html/index.html');
    expect(files.split('\n').filter((file) => /\.(tsx?|map)$/.test(file) || file.includes('node_modules'))).toEqual([]);
  });
});

/** Layers and cache busting (docs/concepts.md): the server image rebuilt after an edit to its sources. */
describe('the server image rebuilt after an edit to server/src', () => {
  const tags = ['fibstack-layers-test:before', 'fibstack-layers-test:after'] as const;
  const layersOf = async (tag: string) => JSON.parse(await docker(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', tag])) as string[];

  it('rebuilds only its last two layers, the server sources and their build: dependencies and shared packages come from the cache', async () => {
    await provisionBaseImages();
    const copy = copyOfRepository('fibstack-layers-');
    try {
      // The build stage, where npm ci runs: a layer is content-addressed, file times included, so a step
      // that ran again makes a different layer (the final stage copies content, which hides that).
      const build = (tag: string) =>
        docker(['build', '-q', ...baseImageBuildArgs(), '--target', 'build', '-f', 'server/Dockerfile', '-t', tag, copy], 900_000);
      await build(tags[0]);
      edit(join(copy, 'server/src/http/errors.ts'), '`no route for ${req.method}', '`nothing here for ${req.method}');
      await build(tags[1]);
      const [before, after] = [await layersOf(tags[0]), await layersOf(tags[1])];
      expect(after).toHaveLength(before.length);
      const rebuilt = after.flatMap((layer, i) => (layer === before[i] ? [] : [i]));
      expect(rebuilt).toEqual([after.length - 2, after.length - 1]);
      expect(await inImage(tags[1], "grep -l 'nothing here for' -r /app/server/dist")).toBe('/app/server/dist/http/errors.js');
    } finally {
      rmSync(copy, { recursive: true, force: true });
      await docker(['rmi', ...tags]).catch(() => undefined);
    }
  });
});
