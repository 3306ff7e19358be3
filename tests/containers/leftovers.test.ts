import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { podman } from './podman.js';
import { docker, provisionBaseImages, REPO_ROOT } from './docker.js';

/**
 * .ci/leftovers.mjs, the check that ends every CI run, against the real Docker engine and podman: what a
 * run creates and does not remove is named, and nothing is named once it is removed. (Each object is
 * this test's own; other jobs on the machine may create objects meanwhile, so only these are looked for.)
 */
describe('the leftover check of CI (.ci/leftovers.mjs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'leftovers-test-'));
  const runTmp = join(dir, 'run');
  const snapshot = join(dir, 'before.json');
  const probe = `fibstack-leftover-probe-${process.pid}`;
  let container = '';
  /** The volume Docker made for the container (Redis's image declares one): `docker rm -f` without `-v` keeps it. */
  let anonymousVolume = '';

  const leftovers = (command: 'snapshot' | 'check') => {
    const args = command === 'snapshot' ? [snapshot] : [snapshot, runTmp, probe];
    const result = spawnSync('node', ['.ci/leftovers.mjs', command, ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
    return { status: result.status, output: result.stdout + result.stderr };
  };

  /** The check's report as lists of what it named, by kind ("volumes that did not exist before the run:" → volumes). */
  const groups = (output: string) => {
    const named: Record<string, string[]> = {};
    let kind = '';
    for (const line of output.split('\n')) {
      const header = /^ {2}(.+) that did not exist before the run:$/.exec(line);
      if (header) named[(kind = header[1]!)] = [];
      else if (kind && /^ {4}\S/.test(line)) named[kind]!.push(line.trim());
      else kind = '';
    }
    return named;
  };

  beforeAll(async () => {
    await provisionBaseImages();
    mkdirSync(runTmp);
  });

  afterAll(async () => {
    if (container) await docker(['rm', '-f', '-v', container]).catch(() => undefined);
    await docker(['volume', 'rm', probe]).catch(() => undefined);
    await docker(['network', 'rm', probe]).catch(() => undefined);
    await docker(['rmi', `${probe}:tag`]).catch(() => undefined);
    await podman(['volume', 'rm', probe]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names a container (and the volume Docker made for it), a volume, a network, an image name and a podman volume made after the snapshot', async () => {
    expect(leftovers('snapshot').status).toBe(0);
    container = await docker(['run', '-d', '--rm', '--name', probe, '--entrypoint', 'sleep', 'redis:7-bookworm', '300']);
    anonymousVolume = await docker(['inspect', '-f', '{{range .Mounts}}{{.Name}}{{end}}', container]);
    await docker(['volume', 'create', probe]);
    await docker(['network', 'create', probe]);
    await docker(['tag', 'redis:7-bookworm', `${probe}:tag`]);
    await podman(['volume', 'create', probe]);

    const { status, output } = leftovers('check');
    expect(status).toBe(1);
    const named = groups(output);
    expect(named['containers']).toContain(`${container} ${probe}`);
    expect(named['volumes']).toEqual(expect.arrayContaining([`${probe} ${probe}`, `${anonymousVolume} ${anonymousVolume}`]));
    expect(named['networks']).toContainEqual(expect.stringMatching(new RegExp(`^[0-9a-f]{64} ${probe}$`)));
    expect(named['images']).toContainEqual(expect.stringMatching(new RegExp(`^sha256:[0-9a-f]{64} ${probe}:tag$`)));
    expect(named['podman volumes']).toContain(`${probe} ${probe}`);
  });

  it('names none of them once they are removed, the container with its volume (`docker rm -v`)', async () => {
    await docker(['rm', '-f', '-v', container]);
    await docker(['volume', 'rm', probe]);
    await docker(['network', 'rm', probe]);
    await docker(['rmi', `${probe}:tag`]);
    await podman(['volume', 'rm', probe]);
    const { output } = leftovers('check');
    expect(output).not.toContain(probe);
    expect(output).not.toContain(anonymousVolume);
  });
});
