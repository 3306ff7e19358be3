import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { composeErrors } from './compose-schema.js';
import { buildBundle, EB_BUNDLE_SCRIPT } from './eb-bundle.js';

describe('scripts/eb-bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eb-bundle-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const source = buildBundle(dir, 'acme', '0123abc');
  const compose = parse(source, { merge: true }) as { services: Record<string, Record<string, unknown>> };

  it('writes a zip whose compose file is valid against the Compose specification', () => {
    expect(composeErrors(source)).toEqual([]);
  });

  it('references exactly the images CI pushes and builds nothing', () => {
    expect(source).not.toMatch(/^\s*build:/m);
    const own = Object.values(compose.services).map((service) => String(service.image)).filter((image) => image.startsWith('acme/'));
    expect([...new Set(own)].sort()).toEqual(
      ['client', 'nginx', 'server', 'worker'].map((service) => `acme/fibstack-${service}:0123abc`),
    );
  });

  it('publishes port 80 through nginx only and requires the Postgres password from the environment', () => {
    const published = Object.entries(compose.services).filter(([, service]) => service.ports);
    expect(published).toEqual([['nginx', expect.objectContaining({ ports: ['80:80'] })]]);
    expect(source).not.toContain('POSTGRES_PASSWORD:-');
    expect(source).toContain('${POSTGRES_PASSWORD:?');
  });

  it('refuses to build without DOCKER_ID', () => {
    expect(() => execFileSync(EB_BUNDLE_SCRIPT, [join(dir, 'x.zip')], { env: { PATH: process.env.PATH }, stdio: 'pipe' })).toThrow(/DOCKER_ID/);
  });
});
