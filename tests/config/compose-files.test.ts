import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig as loadServerConfig } from '../../server/src/config.js';
import { loadConfig as loadWorkerConfig } from '../../worker/src/config.js';
import { composeErrors } from './compose-schema.js';

const read = (file: string) => readFileSync(fileURLToPath(new URL(`../../${file}`, import.meta.url)), 'utf8');

// The production edge is published on every interface; the dev edge (Vite, source maps) on loopback unless asked.
describe.each([
  ['docker-compose.yml', '${FIBSTACK_PORT:-3050}:80'],
  ['docker-compose.dev.yml', '${FIBSTACK_HOST:-127.0.0.1}:${FIBSTACK_PORT:-3050}:80'],
])('%s', (file, edgePorts) => {
  const source = read(file);
  const compose = parse(source, { merge: true }) as { services: Record<string, Record<string, unknown>> };

  it('is valid against the Compose specification, with no version key', () => {
    expect(composeErrors(source)).toEqual([]);
    expect(compose).not.toHaveProperty('version');
  });

  it('publishes only the edge, on 3050 (opt-in profile services only on the loopback address)', () => {
    const published = Object.entries(compose.services).filter(([, service]) => service.ports && !service.profiles);
    expect(published.map(([name]) => name)).toEqual(['nginx']);
    expect(published[0]![1].ports).toEqual([edgePorts]);
    for (const [name, service] of Object.entries(compose.services).filter(([, service]) => service.profiles)) {
      for (const port of (service.ports as string[] | undefined) ?? []) expect(port, name).toMatch(/^"?127\.0\.0\.1:/);
    }
  });

  it('starts server and worker only after migrations and healthy stores', () => {
    for (const name of ['server', 'worker']) {
      expect(compose.services[name]!.depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('has no password in it: the stores start after `secrets` made theirs, and every service reads its own from a file', () => {
    // No fallback for any password, and none given in the clear (Grafana's too, in the observability profile).
    expect(source).not.toMatch(/PASSWORD:-[^}]/);
    expect(source).not.toMatch(/^\s*(GF_SECURITY_ADMIN_PASSWORD|POSTGRES_PASSWORD|PGPASSWORD|REDIS_PASSWORD):(?! \$\{\w+:-\})/m);
    for (const store of ['postgres', 'redis']) {
      expect(compose.services[store]!.depends_on).toMatchObject({ secrets: { condition: 'service_completed_successfully' } });
    }
    const env = (name: string) => compose.services[name]!.environment as Record<string, string>;
    for (const name of ['migrate', 'server', 'worker']) {
      expect(env(name).PGPASSWORD_FILE).toBe('/run/secrets/fibstack/postgres-password');
      expect(env(name)).not.toHaveProperty('PGPASSWORD');
    }
    expect(env('server')).toMatchObject({ REDIS_USERNAME: 'server', REDIS_PASSWORD_FILE: '/run/secrets/fibstack/redis-server-password' });
    expect(env('worker')).toMatchObject({ REDIS_USERNAME: 'worker', REDIS_PASSWORD_FILE: '/run/secrets/fibstack/redis-worker-password' });
    expect(compose.services.redis!.command).toEqual(expect.arrayContaining(['--aclfile', '/run/secrets/fibstack/redis-users.acl']));
    expect(compose.services.postgres!.environment).not.toHaveProperty('POSTGRES_PASSWORD');
  });
});

describe('the passwords both compose files make', () => {
  const production = parse(read('docker-compose.yml')) as Record<string, unknown>;
  const development = parse(read('docker-compose.dev.yml')) as Record<string, unknown>;

  it('are made and given to Postgres by the same script in each', () => {
    expect(development['x-make-secrets']).toBe(production['x-make-secrets']);
    expect(development['x-postgres-command']).toEqual(production['x-postgres-command']);
  });

  it('give Redis no default user, and each service a user of its own with only what it needs', () => {
    const acl = String(production['x-make-secrets'])
      .split('\n')
      .filter((line) => line.startsWith('user '))
      .map((line) => line.replace(/#\$\$\(sha [^)]*\)/, '#<sha256>'));
    expect(acl).toEqual([
      'user default off',
      'user healthcheck on #<sha256> -@all +ping',
      'user server on #<sha256> ~bull:* ~fibstack:* &fibstack:* +@all -@dangerous +info -publish',
      'user worker on #<sha256> ~bull:* &fibstack:* +@all -@dangerous +info',
    ]);
  });
});

describe('the production compose file', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Record<string, unknown>> };

  it('keeps Redis as BullMQ needs it and data in named volumes', () => {
    expect(compose.services.redis!.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']));
    expect(compose.services.postgres!.volumes).toEqual([
      'postgres-data:/var/lib/postgresql/data',
      'secrets-postgres:/run/secrets/fibstack:ro',
    ]);
    expect(compose.services.redis!.volumes).toEqual(['redis-data:/data', 'secrets-redis:/run/secrets/fibstack:ro']);
  });

  it('gives each service the volume of its own passwords and no other', () => {
    const secretVolumes = (name: string) =>
      ((compose.services[name]!.volumes as string[] | undefined) ?? []).filter((volume) => volume.startsWith('secrets-'));
    expect(
      Object.fromEntries(
        ['postgres', 'redis', 'migrate', 'server', 'worker', 'client', 'nginx'].map((name) => [name, secretVolumes(name)]),
      ),
    ).toEqual({
      postgres: ['secrets-postgres:/run/secrets/fibstack:ro'],
      redis: ['secrets-redis:/run/secrets/fibstack:ro'],
      migrate: ['secrets-server:/run/secrets/fibstack:ro'],
      server: ['secrets-server:/run/secrets/fibstack:ro'],
      worker: ['secrets-worker:/run/secrets/fibstack:ro'],
      client: [],
      nginx: [],
    });
  });

  it('runs node services with an init process and health checks', () => {
    for (const name of ['server', 'worker']) {
      expect(compose.services[name]!.init).toBe(true);
      expect(compose.services[name]!.healthcheck).toBeDefined();
    }
  });
});

describe('docker-compose.managed-data.yml (managed Postgres and Redis)', () => {
  const source = read('docker-compose.managed-data.yml');
  const urls = { DATABASE_URL: 'postgres://fibstack@db.example.com:5432/fibstack', REDIS_URL: 'rediss://:token@cache.example.com:6379' };
  /** Both files merged as docker-compose (1.29) merges them. */
  const merged = (env: Record<string, string>) =>
    parse(
      execFileSync('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.managed-data.yml', 'config'], {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        env: { PATH: process.env.PATH, ...env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as {
      services: Record<
        string,
        { command?: string[]; healthcheck?: { test: string[] }; environment?: Record<string, string>; depends_on?: Record<string, unknown> }
      >;
    };

  it('is valid against the Compose specification, with no version key', () => {
    expect(composeErrors(source)).toEqual([]);
    expect(parse(source)).not.toHaveProperty('version');
  });

  it('runs no database: postgres and redis become probes of the managed ones, which the services still wait for', () => {
    const { services } = merged(urls);
    expect(services.postgres!.command).toEqual(['sleep', 'infinity']);
    expect(services.postgres!.healthcheck!.test.join(' ')).toContain('pg_isready -d');
    expect(services.redis!.command).toEqual(['sleep', 'infinity']);
    expect(services.redis!.healthcheck!.test.join(' ')).toContain('redis-cli -u');
    for (const name of ['server', 'worker']) {
      expect(services[name]!.environment).toMatchObject(urls);
      expect(Object.keys(services[name]!.depends_on!).sort()).toEqual(['migrate', 'postgres', 'redis']);
    }
    expect(services.migrate!.environment).toMatchObject({ DATABASE_URL: urls.DATABASE_URL });
  });

  it('refuses to start without the URLs, naming the one missing', () => {
    expect(() => merged({ REDIS_URL: urls.REDIS_URL })).toThrow(/set DATABASE_URL to the managed Postgres/);
    expect(() => merged({ DATABASE_URL: urls.DATABASE_URL })).toThrow(/set REDIS_URL to the managed Redis/);
  });
});

describe('docker-compose.replicas.yml (two API servers and two workers)', () => {
  const source = read('docker-compose.replicas.yml');
  /** Both files merged as docker-compose (1.29) merges them. */
  const merged = () =>
    parse(
      execFileSync('docker-compose', ['-f', 'docker-compose.yml', '-f', 'docker-compose.replicas.yml', 'config'], {
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        env: { PATH: process.env.PATH },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as { services: Record<string, { deploy?: { replicas?: number }; container_name?: string; command?: string[] }> };

  it('is valid against the Compose specification, with no version key', () => {
    expect(composeErrors(source)).toEqual([]);
    expect(parse(source)).not.toHaveProperty('version');
  });

  it('runs two of the server and the worker, none of which has a fixed container name (one container only)', () => {
    const { services } = merged();
    expect(services.server!.deploy?.replicas).toBe(2);
    expect(services.worker!.deploy?.replicas).toBe(2);
    for (const [name, service] of Object.entries(services)) expect(service.container_name, name).toBeUndefined();
  });

  it("keeps every pool within Postgres' connections: replicas × PG_POOL_MAX, migrate, and a reserve", () => {
    const { services } = merged();
    const maxConnections = Number(/max_connections=(\d+)/.exec((services.postgres!.command ?? []).join(' '))?.[1] ?? 100);
    const pools =
      services.server!.deploy!.replicas! * loadServerConfig({}).PG_POOL_MAX +
      services.worker!.deploy!.replicas! * loadWorkerConfig({}).PG_POOL_MAX;
    // migrate's one connection, and Postgres' superuser slots (3) with room for an operator's psql.
    expect(pools + 1 + 10).toBeLessThanOrEqual(maxConnections);
  });
});
