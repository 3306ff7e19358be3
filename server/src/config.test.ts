import { describe, expect, it } from 'vitest';
import { ConfigError } from '@fibstack/service-kit/config';
import { loadConfig } from './config.js';

describe('server configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 5000,
      MAX_INDEX: 100_000,
      STORAGE_BUDGET_GIB: 10,
      RATE_LIMIT_ENABLED: false,
      RATE_LIMIT_PER_MINUTE: 600,
      TRUST_PROXY: false,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      SSE_HEARTBEAT_MS: 15_000,
      SSE_MAX_STREAMS_PER_CLIENT: 8,
      SSE_MAX_STREAMS: 1_000,
      SSE_STREAM_LIFETIME_MS: 600_000,
      LOG_LEVEL: 'info',
      PG_CONNECT_TIMEOUT_MS: 1_000,
    });
    expect(config.CORS_ORIGIN).toBeUndefined();
    expect(config.STATIC_DIR).toBeUndefined();
  });

  it.each([
    ['1', 1],
    ['false', false],
    ['10.0.0.0/8, 127.0.0.1', '10.0.0.0/8, 127.0.0.1'],
  ])('reads TRUST_PROXY=%s as a hop count, off, or an address list', (raw, expected) => {
    expect(loadConfig({ TRUST_PROXY: raw }).TRUST_PROXY).toBe(expected);
  });

  it('reads and converts the environment', () => {
    const config = loadConfig({ PORT: '8080', MAX_INDEX: '500', RATE_LIMIT_ENABLED: 'true', PG_POOL_MAX: '' });
    expect(config).toMatchObject({ PORT: 8080, MAX_INDEX: 500, RATE_LIMIT_ENABLED: true, PG_POOL_MAX: 20 });
  });

  it.each([
    [{ PORT: 'http' }, /PORT: must be an integer from 1 to 65535 \(got "http"\)/],
    [{ PORT: '70000' }, /PORT: must be an integer from 1 to 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a URL starting with postgres:\/\/ or postgresql:\/\//],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\//],
    [{ RATE_LIMIT_ENABLED: 'yes' }, /RATE_LIMIT_ENABLED: must be true or false/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: must be one of/],
    [{ TRUST_PROXY: 'true' }, /TRUST_PROXY: must be a hop count/],
    [{ TRUST_PROXY: 'nginx' }, /TRUST_PROXY: must be a hop count/],
    [{ MAX_INDEX: '-1' }, /MAX_INDEX: must be an integer/],
    [{ SHUTDOWN_TIMEOUT_MS: '1.5' }, /SHUTDOWN_TIMEOUT_MS: must be an integer/],
    [{ PGPORT: '0' }, /PGPORT: must be an integer from 1 to 65535/],
    [{ SSE_MAX_STREAMS_PER_CLIENT: '0' }, /SSE_MAX_STREAMS_PER_CLIENT: must be an integer from 1/],
    [{ SSE_STREAM_LIFETIME_MS: '500' }, /SSE_STREAM_LIFETIME_MS: must be an integer from 1000/],
    [{ STORAGE_BUDGET_GIB: '0' }, /STORAGE_BUDGET_GIB: must be an integer from 1 to 65536/],
  ])('fails fast naming the variable for %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses a MAX_INDEX whose values cannot fit the storage budget, saying what fits', () => {
    // What .env.example once suggested, against the default 10 GiB (the k8s claim): ~102 GiB of values.
    const attempt = () => loadConfig({ MAX_INDEX: '1000000' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      'MAX_INDEX: the values of indexes 0 to 1000000 take about 102.1 GiB on disk, more than 80% of STORAGE_BUDGET_GIB (10 GiB); ' +
        'at most 277468 fits it (or give the database a larger volume and raise STORAGE_BUDGET_GIB) (got "1000000")',
    );
    expect(loadConfig({ MAX_INDEX: '277468' }).MAX_INDEX).toBe(277_468);
    expect(() => loadConfig({ MAX_INDEX: '277469' })).toThrow(/MAX_INDEX: the values of indexes 0 to 277469/);
    expect(loadConfig({ MAX_INDEX: '1000000', STORAGE_BUDGET_GIB: '128' })).toMatchObject({
      MAX_INDEX: 1_000_000,
      STORAGE_BUDGET_GIB: 128,
    });
  });
});
