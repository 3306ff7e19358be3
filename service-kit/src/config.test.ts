import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseEnv, secretNames } from './config.js';
import { poolConfigFrom, postgresEnv } from './postgres.js';
import { redisEnv, redisOptionsFrom } from './redis.js';
import { otlpEnv } from './tracing/otlp-env.js';

/** The message parseEnv throws for `env`, which must fail. */
function configErrorOf(schema: z.ZodType, env: Record<string, string>): string {
  try {
    parseEnv(schema, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`accepted: ${JSON.stringify(env)}`);
}

describe('database and Redis settings', () => {
  it('prefers DATABASE_URL and falls back to the PG* variables', () => {
    const fromUrl = poolConfigFrom(parseEnv(postgresEnv, { DATABASE_URL: 'postgres://u:p@db:5433/app' }));
    expect(fromUrl).toMatchObject({ connectionString: 'postgres://u:p@db:5433/app', connectionTimeoutMillis: 1_000 });
    const fromParts = poolConfigFrom(parseEnv(postgresEnv, { PGHOST: 'db', PGPORT: '6543', PGPASSWORD: 's3cret' }));
    expect(fromParts).toMatchObject({ host: 'db', port: 6543, user: 'postgres', password: 's3cret', database: 'fibstack' });
  });

  it('gives a DATABASE_URL without a password PGPASSWORD, percent-encoded, as libpq would; a password in the URL wins', () => {
    const env = { DATABASE_URL: 'postgres://app@db:5432/app?sslmode=require', PGPASSWORD: 'p@ss:w/rd#%41' };
    const { connectionString } = poolConfigFrom(parseEnv(postgresEnv, env));
    expect(connectionString).toBe('postgres://app:p%40ss%3Aw%2Frd%23%2541@db:5432/app?sslmode=require');
    expect(decodeURIComponent(new URL(connectionString!).password)).toBe(env.PGPASSWORD);
    const own = poolConfigFrom(parseEnv(postgresEnv, { ...env, DATABASE_URL: 'postgres://app:mine@db:5432/app' }));
    expect(own.connectionString).toBe('postgres://app:mine@db:5432/app');
  });

  it('reads REDIS_URL with credentials and database, and gives blocking connections no retry limit', () => {
    const env = parseEnv(redisEnv, { REDIS_URL: 'redis://:p%40ss@cache:6380/2' });
    expect(redisOptionsFrom(env, 'blocking')).toMatchObject({
      host: 'cache',
      port: 6380,
      password: 'p@ss',
      db: 2,
      maxRetriesPerRequest: null,
    });
    expect(redisOptionsFrom(env, 'command')).toMatchObject({ maxRetriesPerRequest: 1, enableOfflineQueue: false });
  });

  it('logs in as an ACL user with REDIS_USERNAME and REDIS_PASSWORD', () => {
    const env = parseEnv(redisEnv, { REDIS_HOST: 'redis', REDIS_USERNAME: 'worker', REDIS_PASSWORD: 'pw' });
    expect(redisOptionsFrom(env, 'blocking')).toMatchObject({ host: 'redis', port: 6379, username: 'worker', password: 'pw' });
  });

  it('lists every bad variable in one error', () => {
    const schema = z.object({ ...postgresEnv.shape, ...redisEnv.shape });
    expect(configErrorOf(schema, { PGPORT: 'five', REDIS_PORT: '0' })).toBe(
      'Invalid configuration:\n' +
        '  PGPORT: must be an integer from 1 to 65535 (got "five")\n' +
        '  REDIS_PORT: must be an integer from 1 to 65535 (got "0")',
    );
  });
});

const SECRET = 'Pa55-word-nobody-may-see';

describe('secrets in the configuration', () => {
  it('are the URLs with credentials, the passwords and the OTLP headers and endpoints', () => {
    expect(secretNames(postgresEnv)).toEqual(['DATABASE_URL', 'PGPASSWORD']);
    expect(secretNames(redisEnv)).toEqual(['REDIS_URL', 'REDIS_PASSWORD']);
    expect(secretNames(otlpEnv)).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    ]);
  });

  // Each one malformed: refused, named, and its value never shown (the old message echoed it whole).
  it.each([
    [
      'DATABASE_URL',
      postgresEnv,
      `postgres://fibstack:${SECRET}#1@postgres:5432/fibstack`,
      'with any @ : / ? # % in the user name or password percent-encoded',
    ],
    ['DATABASE_URL', postgresEnv, `postgres://fibstack:12#${SECRET}@postgres:5432/fibstack`, 'percent-encoded'],
    ['DATABASE_URL', postgresEnv, `postgres://fibstack:${SECRET}%zz@postgres:5432/fibstack`, 'not valid percent-encoding'],
    [
      'DATABASE_URL',
      postgresEnv,
      `mysql://fibstack:${SECRET}@db:3306/fibstack`,
      'must be a URL starting with postgres:// or postgresql://',
    ],
    ['REDIS_URL', redisEnv, `redis://:${SECRET}#@cache:6379`, 'must be a URL starting with redis:// or rediss://'],
    ['REDIS_URL', redisEnv, `redis://:${SECRET}%@cache:6379`, 'not valid percent-encoding'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', otlpEnv, `https://user:${SECRET}#@collector:4318`, 'must be a URL starting with http:// or https://'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', otlpEnv, `ftp://user:${SECRET}@collector`, 'must be a URL starting with http:// or https://'],
    ['OTEL_EXPORTER_OTLP_HEADERS', otlpEnv, `api-key=${SECRET};x`, 'must be comma-separated key=value pairs'],
    ['OTEL_EXPORTER_OTLP_HEADERS', otlpEnv, `Authorization=Bearer ${SECRET}%`, 'must be comma-separated key=value pairs'],
    ['OTEL_EXPORTER_OTLP_TRACES_HEADERS', otlpEnv, `${SECRET}`, 'must be comma-separated key=value pairs'],
  ])('%s malformed is refused without showing it (%#)', (name, schema, value, reason) => {
    const message = configErrorOf(schema, { [name]: value });
    expect(message).toContain(`${name}: `);
    expect(message).toContain(reason);
    expect(message).toContain('value not shown: it holds a secret');
    expect(message).not.toContain(SECRET);
  });

  it('accepts well-formed OTLP headers (percent-encoded values, several pairs)', () => {
    const env = { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%3Bdef, Authorization=Bearer x==' };
    expect(parseEnv(otlpEnv, env).OTEL_EXPORTER_OTLP_HEADERS).toBe(env.OTEL_EXPORTER_OTLP_HEADERS);
  });

  it('still shows the values of variables that hold no secret', () => {
    expect(configErrorOf(postgresEnv, { PGHOST: 'db', PGPORT: 'x' })).toContain('PGPORT: must be an integer from 1 to 65535 (got "x")');
  });
});

describe('secrets from files (NAME_FILE, the Docker-secrets convention)', () => {
  let dir: string;
  beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), 'fibstack-config-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };

  it('reads each secret from its file, without the trailing newline', () => {
    const env = parseEnv(z.object({ ...postgresEnv.shape, ...redisEnv.shape }), {
      PGPASSWORD_FILE: file('pg', `${SECRET}\n`),
      REDIS_PASSWORD_FILE: file('redis', `${SECRET}-redis\r\n`),
      DATABASE_URL_FILE: file('url', 'postgres://app@db/app\n'),
      REDIS_URL_FILE: file('redis-url', 'rediss://:token@cache:6380'),
    });
    expect(env).toMatchObject({
      PGPASSWORD: SECRET,
      REDIS_PASSWORD: `${SECRET}-redis`,
      DATABASE_URL: 'postgres://app@db/app',
      REDIS_URL: 'rediss://:token@cache:6380',
    });
  });

  it('validates what a file holds, and says where it came from without showing it', () => {
    const message = configErrorOf(postgresEnv, { DATABASE_URL_FILE: file('bad-url', `postgres://app:${SECRET}#@db/app\n`) });
    expect(message).toContain('DATABASE_URL: must be a URL starting with postgres://');
    expect(message).toContain('(read from DATABASE_URL_FILE; value not shown: it holds a secret)');
    expect(message).not.toContain(SECRET);
  });

  it('refuses a file that cannot be read, an empty one, and a secret set both ways, naming each', () => {
    const message = configErrorOf(z.object({ ...postgresEnv.shape, ...redisEnv.shape }), {
      PGPASSWORD_FILE: join(dir, 'missing'),
      REDIS_PASSWORD_FILE: file('empty', '\n'),
      REDIS_URL: `redis://:${SECRET}@cache:6379`,
      REDIS_URL_FILE: file('also', 'redis://cache:6379'),
    });
    expect(message).toBe(
      'Invalid configuration:\n' +
        `  PGPASSWORD_FILE: cannot read ${JSON.stringify(join(dir, 'missing'))} (ENOENT)\n` +
        '  REDIS_URL_FILE: set either REDIS_URL or REDIS_URL_FILE, not both\n' +
        `  REDIS_PASSWORD_FILE: ${JSON.stringify(join(dir, 'empty'))} is empty`,
    );
  });
});
