import { describe, expect, it } from 'vitest';
import { ConfigError } from '@fibstack/service-kit/config';
import { loadConfig } from './config.js';

describe('server configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PORT: 5000, MAX_INDEX: 100_000, RATE_LIMIT_ENABLED: false, LOG_LEVEL: 'info' });
  });

  it('reads and converts the environment', () => {
    const config = loadConfig({ PORT: '8080', MAX_INDEX: '500', RATE_LIMIT_ENABLED: 'true', PG_POOL_MAX: '' });
    expect(config).toMatchObject({ PORT: 8080, MAX_INDEX: 500, RATE_LIMIT_ENABLED: true, PG_POOL_MAX: 10 });
  });

  it.each([
    [{ PORT: 'http' }, /PORT: must be an integer from 1 to 65535 \(got "http"\)/],
    [{ PORT: '70000' }, /PORT: must be an integer from 1 to 65535/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a URL starting with postgres:\/\/ or postgresql:\/\//],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\//],
    [{ RATE_LIMIT_ENABLED: 'yes' }, /RATE_LIMIT_ENABLED: must be true or false/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL: must be one of/],
  ])('fails fast naming the variable for %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
