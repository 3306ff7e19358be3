import { describe, expect, it } from 'vitest';
import { ConfigError } from '@fibstack/service-kit/config';
import { loadConfig } from './config.js';

describe('worker configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      WORKER_CONCURRENCY: 50,
      JOB_TIMEOUT_MS: 30_000,
      RECONCILE_INTERVAL_MS: 30_000,
      RETENTION_DAYS: 30,
      WORKER_LOCK_DURATION_MS: 30_000,
      WORKER_STALLED_INTERVAL_MS: 30_000,
      SHUTDOWN_TIMEOUT_MS: 35_000,
    });
    expect(config.HEALTH_PORT).toBeUndefined();
  });

  it('reads every setting, treating empty as unset', () => {
    const config = loadConfig({
      WORKER_CONCURRENCY: '3',
      JOB_TIMEOUT_MS: '5000',
      RECONCILE_INTERVAL_MS: '200',
      RETENTION_DAYS: '7',
      HEALTH_PORT: '9090',
      WORKER_LOCK_DURATION_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '',
      SHUTDOWN_TIMEOUT_MS: '2000',
    });
    expect(config).toMatchObject({
      WORKER_CONCURRENCY: 3,
      JOB_TIMEOUT_MS: 5_000,
      RECONCILE_INTERVAL_MS: 200,
      RETENTION_DAYS: 7,
      HEALTH_PORT: 9090,
      WORKER_LOCK_DURATION_MS: 1_000,
      WORKER_STALLED_INTERVAL_MS: 30_000,
      SHUTDOWN_TIMEOUT_MS: 2_000,
    });
  });

  it('fails fast, naming each bad variable', () => {
    const attempt = () => loadConfig({ WORKER_CONCURRENCY: 'many', HEALTH_PORT: '70000', JOB_TIMEOUT_MS: '-1', RETENTION_DAYS: '0' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/WORKER_CONCURRENCY: must be an integer from 1 to 500 \(got "many"\)/);
    expect(attempt).toThrow(/HEALTH_PORT: must be an integer from 1 to 65535 \(got "70000"\)/);
    expect(attempt).toThrow(/JOB_TIMEOUT_MS/);
    expect(attempt).toThrow(/RETENTION_DAYS: must be an integer from 1 to 36500 \(got "0"\)/);
  });
});
