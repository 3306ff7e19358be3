import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../support/kustomize-render.js';

const dir = mkdtempSync(join(tmpdir(), 'image-refs-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SERVICES = ['client', 'server', 'worker', 'nginx'];
const digest = (seed: string) => `sha256:${seed.repeat(64).slice(0, 64)}`;

/** Runs scripts/image-refs.mjs; returns its exit status, stdout and stderr. */
function imageRefs(...args: string[]): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync('node', ['scripts/image-refs.mjs', ...args], { cwd: REPO, encoding: 'utf8', stdio: 'pipe' });
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    const failure = error as { status: number; stdout: string; stderr: string };
    return { status: failure.status, stdout: failure.stdout, stderr: failure.stderr };
  }
}

const writeRefs = (name: string, refs: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(refs));
  return file;
};

describe('scripts/image-refs.mjs: the pushed images by digest', () => {
  it('prints one service or all of them, as deploy scripts read them', () => {
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const refs = Object.fromEntries(SERVICES.map((service, i) => [service, `${registry}/fibstack-${service}@${digest(String(i + 1))}`]));
    const file = writeRefs('images.json', refs);
    expect(imageRefs('get', 'server', file)).toMatchObject({ status: 0, stdout: `${registry}/fibstack-server@${digest('2')}\n` });
    expect(imageRefs('list', file).stdout.trim().split('\n')).toEqual(SERVICES.map((service) => `${service} ${refs[service]}`));
    // Docker Hub names and registry ports are references too.
    const hub = writeRefs('hub.json', {
      ...refs,
      nginx: `acme/fibstack-nginx@${digest('4')}`,
      client: `127.0.0.1:5000/fibstack-client@${digest('1')}`,
    });
    expect(imageRefs('get', 'nginx', hub).stdout).toBe(`acme/fibstack-nginx@${digest('4')}\n`);
    expect(imageRefs('get', 'client', hub).stdout).toBe(`127.0.0.1:5000/fibstack-client@${digest('1')}\n`);
  });

  it('refuses a record that names a tag, lacks a service, has another or is not there, so no deploy falls back to a tag', () => {
    const good = Object.fromEntries(SERVICES.map((service) => [service, `acme/fibstack-${service}@${digest('a')}`]));
    const cases: Array<[unknown, string]> = [
      [{ ...good, server: 'acme/fibstack-server:abc123' }, 'server is "acme/fibstack-server:abc123", not registry/name@sha256'],
      [{ ...good, server: `acme/fibstack-server:abc123@${digest('a')}` }, 'server is'],
      [{ ...good, worker: `acme/fibstack-worker@sha256:${'a'.repeat(63)}` }, 'worker is'],
      [{ ...good, nginx: undefined }, 'no image for nginx'],
      [{ ...good, edge: `acme/edge@${digest('a')}` }, 'unknown service(s) edge'],
      [[], 'expected a JSON object'],
    ];
    for (const [refs, message] of cases) {
      const result = imageRefs('get', 'client', writeRefs('bad.json', refs));
      expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 1, stderr: expect.stringContaining(message) });
    }
    expect(imageRefs('get', 'client', join(dir, 'missing.json')).stderr).toContain('not found (scripts/release-images push writes it)');
    expect(imageRefs('get', 'bull-board', writeRefs('ok.json', good)).status).toBe(1);
  });
});
