import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseImageBuildArgs, docker, provisionBaseImages, REPO_ROOT } from './docker.js';

interface DevContainer {
  build: { dockerfile: string; context: string };
  runArgs: string[];
  mounts: Array<{ source: string; target: string; type: string }>;
  remoteUser: string;
  overrideCommand: boolean;
  forwardPorts: number[];
  postCreateCommand: string;
}

const IMAGE = 'fibstack-devcontainer:test';
const NAME = 'fibstack-devcontainer-test';

/**
 * .devcontainer/ as VS Code and Codespaces use it: the image builds from the project's Node image, and in a
 * container started the way devcontainer.json says, the `node` user has what `npm test` needs and the host's
 * Docker engine. (That `npm ci && npm test` passes in it was run once by hand; it takes ten minutes.)
 */
describe('the dev container', () => {
  const folder = join(REPO_ROOT, '.devcontainer');
  const config = JSON.parse(readFileSync(join(folder, 'devcontainer.json'), 'utf8')) as DevContainer;
  const asNode = (command: string) => docker(['exec', '-u', config.remoteUser, NAME, 'sh', '-c', command]);

  beforeAll(async () => {
    await provisionBaseImages();
    const context = join(folder, config.build.context);
    await docker(['build', ...baseImageBuildArgs(), '-f', join(folder, config.build.dockerfile), '-t', IMAGE, context], 900_000);
    await docker(['rm', '-f', NAME]).catch(() => undefined);
    const mounts = config.mounts.flatMap((mount) => ['--mount', `type=${mount.type},source=${mount.source},target=${mount.target}`]);
    // overrideCommand: false, so the image's own entrypoint and command run, as in the editor.
    await docker(['run', '-d', '--name', NAME, ...config.runArgs, ...mounts, IMAGE]);
  });

  afterAll(async () => {
    await docker(['rm', '-f', NAME]).catch(() => undefined);
  });

  it('is built from the project Dockerfile and keeps its entrypoint, forwarding 3050 and installing on create', () => {
    expect(existsSync(join(folder, config.build.dockerfile))).toBe(true);
    expect(readFileSync(join(folder, config.build.dockerfile), 'utf8')).toMatch(/^FROM \$\{NODE_IMAGE\}$/m);
    expect(config.overrideCommand).toBe(false);
    expect(config.forwardPorts).toEqual([3050]);
    expect(config.postCreateCommand).toBe('npm ci');
  });

  it('gives the node user the Node.js, redis-server and Chromium that npm test uses', async () => {
    expect(await asNode('id -un')).toBe('node');
    expect(await asNode('node --version')).toMatch(/^v22\./);
    expect(await asNode('redis-server --version')).toMatch(/^Redis server v=7\./);
    expect(await asNode('chromium --headless --no-sandbox --disable-gpu --dump-dom "data:text/html,<p>fib</p>" 2>/dev/null')).toContain(
      '<p>fib</p>',
    );
  });

  it("gives the node user the host's Docker engine through the socket (docker-outside-of-docker)", async () => {
    const hostEngine = await docker(['version', '--format', '{{.Server.Version}}']);
    expect(await asNode('docker version --format "{{.Server.Version}}"')).toBe(hostEngine);
    expect(await asNode('docker-compose version --short')).toMatch(/^\d+\.\d+/);
  });
});
