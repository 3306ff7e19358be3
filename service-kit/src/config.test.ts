import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from './config.js';
import { poolConfigFrom, postgresEnv } from './postgres.js';
import { redisEnv, redisOptionsFrom } from './redis.js';

describe('database and Redis settings', () => {
  it('prefers DATABASE_URL and falls back to the PG* variables', () => {
    const fromUrl = poolConfigFrom(parseEnv(postgresEnv, { DATABASE_URL: 'postgres://u:p@db:5433/app' }));
    expect(fromUrl).toMatchObject({ connectionString: 'postgres://u:p@db:5433/app', connectionTimeoutMillis: 1_000 });
    const fromParts = poolConfigFrom(parseEnv(postgresEnv, { PGHOST: 'db', PGPORT: '6543', PGPASSWORD: 's3cret' }));
    expect(fromParts).toMatchObject({ host: 'db', port: 6543, user: 'postgres', password: 's3cret', database: 'fibstack' });
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

  it('lists every bad variable in one error', () => {
    const schema = z.object({ ...postgresEnv.shape, ...redisEnv.shape });
    try {
      parseEnv(schema, { PGPORT: 'five', REDIS_PORT: '0' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        'Invalid configuration:\n' +
          '  PGPORT: must be an integer from 1 to 65535 (got "five")\n' +
          '  REDIS_PORT: must be an integer from 1 to 65535 (got "0")',
      );
    }
  });
});
