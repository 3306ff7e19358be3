import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { composeErrors } from './compose-schema.js';
import { buildBundle, EB_BUNDLE_SCRIPT } from '../support/build-eb-bundle.js';

/** `docker compose` (v2) or docker-compose (v1); `config` reads and interpolates a file without any daemon. */
function composeCli(): string[] | undefined {
  for (const command of [['docker', 'compose'], ['docker-compose']]) {
    try {
      execFileSync(command[0]!, [...command.slice(1), 'version'], { stdio: 'ignore' });
      return command;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

describe('scripts/eb-bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eb-bundle-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const SERVICES = ['client', 'server', 'worker', 'nginx'];
  const digest = (service: string) => `sha256:${'abcd'[SERVICES.indexOf(service)]!.repeat(64)}`;
  /** An images record (dist/images.json) written into the test's folder. */
  const imagesFile = (name: string, refs: Record<string, string>) => {
    writeFileSync(join(dir, name), JSON.stringify(refs));
    return join(dir, name);
  };
  const pushed = Object.fromEntries(SERVICES.map((service) => [service, `acme/fibstack-${service}@${digest(service)}`]));
  const source = buildBundle(dir, imagesFile('images.json', pushed));
  const compose = parse(source, { merge: true }) as { services: Record<string, Record<string, unknown>> };

  it('writes a zip whose compose file is valid against the Compose specification, with no version key', () => {
    expect(composeErrors(source)).toEqual([]);
    expect(compose).not.toHaveProperty('version');
  });

  it('runs exactly the images CI pushed, by the digests it recorded, and builds nothing', () => {
    expect(source).not.toMatch(/^\s*build:/m);
    const own = Object.values(compose.services)
      .map((service) => String(service.image))
      .filter((image) => !/^(\$\{(POSTGRES|REDIS)_IMAGE:-)?(postgres|redis):/.test(image));
    expect([...new Set(own)].sort()).toEqual(SERVICES.map((service) => `acme/fibstack-${service}@${digest(service)}`).sort());
  });

  it('refuses to bundle a tag, or without a record of every pushed image: a tag can be moved after the tests ran', () => {
    const bundle = (images: string) => {
      try {
        execFileSync(EB_BUNDLE_SCRIPT, [join(dir, 'refused.zip')], { env: { ...process.env, IMAGES: images }, stdio: 'pipe' });
        return 'bundled';
      } catch (error) {
        return String((error as { stderr: Buffer }).stderr);
      }
    };
    expect(bundle(imagesFile('tag.json', { ...pushed, server: 'acme/fibstack-server:0123abc' }))).toContain(
      'server is "acme/fibstack-server:0123abc", not registry/name@sha256:<64 hex> (a tag is not a release)',
    );
    const { nginx: _nginx, ...partial } = pushed;
    expect(bundle(imagesFile('partial.json', partial))).toContain('no image for nginx');
    expect(bundle(join(dir, 'none.json'))).toContain('not found (scripts/release-images push writes it)');
  });

  it('publishes port 80 (overridable) through nginx only and requires the Postgres password from the environment', () => {
    const published = Object.entries(compose.services).filter(([, service]) => service.ports);
    expect(published).toEqual([['nginx', expect.objectContaining({ ports: ['${FIBSTACK_PORT:-80}:80'] })]]);
    expect(source).not.toMatch(/POSTGRES_PASSWORD:?-/);
    expect(source).toContain('${POSTGRES_PASSWORD:?');
  });

  it('keeps the stores on volumes and migrates once before the apps start', () => {
    expect(compose.services.postgres!.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(compose.services.redis!.volumes).toContain('redis-data:/data');
    expect(compose.services.migrate).toMatchObject({
      image: pushed.server,
      command: ['node', 'dist/migrate.js'],
      restart: 'no',
    });
    for (const name of ['server', 'worker']) {
      expect(compose.services[name]!.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' } });
    }
  });

  const cli = composeCli();
  it.skipIf(!cli)('is read by the Compose CLI: port 80 by default, and no start without POSTGRES_PASSWORD', { timeout: 30_000 }, () => {
    const config = (env: Record<string, string>) =>
      execFileSync(cli![0]!, [...cli!.slice(1), '-f', join(dir, 'docker-compose.yml'), 'config'], {
        cwd: dir,
        env: { ...process.env, POSTGRES_PASSWORD: '', FIBSTACK_PORT: '', ...env },
        encoding: 'utf8',
        stdio: 'pipe',
      });
    const resolved = parse(config({ POSTGRES_PASSWORD: 'from-eb' })) as {
      services: Record<string, { ports: Array<{ published: string | number; target: number }>; environment: Record<string, string> }>;
    };
    expect(resolved.services.nginx!.ports.map(({ published, target }) => `${published}:${target}`)).toEqual(['80:80']);
    // Made into the file every service reads (docker-compose.yml, x-make-secrets).
    expect(resolved.services.secrets!.environment.POSTGRES_PASSWORD).toBe('from-eb');
    expect(resolved.services.server!.environment.PGPASSWORD_FILE).toBe('/run/secrets/fibstack/postgres-password');
    expect(() => config({})).toThrow(/set POSTGRES_PASSWORD in the Elastic Beanstalk environment properties/);
  });
});
