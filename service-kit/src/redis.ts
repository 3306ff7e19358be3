import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { intVar, optionalVar, secretVar, stringVar, urlVar } from './config.js';

/**
 * Redis settings: REDIS_URL, or REDIS_HOST / REDIS_PORT / REDIS_USERNAME / REDIS_PASSWORD when it is
 * unset. REDIS_USERNAME names an ACL user (compose gives the server and the worker one each); without it
 * the password is the `default` user's (requirepass). The secrets may come from files instead
 * (REDIS_URL_FILE, REDIS_PASSWORD_FILE).
 */
export const redisEnv = z.object({
  ...secretVar('REDIS_URL', urlVar(['redis', 'rediss'])),
  REDIS_HOST: stringVar('127.0.0.1'),
  REDIS_PORT: intVar(1, 65535, 6379),
  REDIS_USERNAME: optionalVar(),
  ...secretVar('REDIS_PASSWORD', optionalVar()),
});
export type RedisEnv = z.infer<typeof redisEnv>;

/**
 * How a connection is used decides how it behaves while Redis is away:
 * - `command`: HTTP-path commands (queue adds, rate limits) fail fast so a request never hangs on Redis;
 * - `blocking`: BullMQ workers and subscribers wait and retry forever, as BullMQ requires
 *   (`maxRetriesPerRequest: null`).
 */
export type RedisRole = 'command' | 'blocking';

export function redisOptionsFrom(env: RedisEnv, role: RedisRole): RedisOptions {
  const url = env.REDIS_URL ? new URL(env.REDIS_URL) : undefined;
  const base: RedisOptions = url
    ? {
        host: url.hostname,
        port: Number(url.port || 6379),
        username: url.username ? decodeURIComponent(url.username) : undefined,
        password: url.password ? decodeURIComponent(url.password) : undefined,
        db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
        tls: url.protocol === 'rediss:' ? {} : undefined,
      }
    : { host: env.REDIS_HOST, port: env.REDIS_PORT, username: env.REDIS_USERNAME, password: env.REDIS_PASSWORD };
  return {
    ...base,
    // Reconnect with capped backoff, forever: Redis coming back should heal every process by itself.
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...(role === 'blocking'
      ? { maxRetriesPerRequest: null }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 1_000 }),
  };
}

/** A connection whose errors are logged (at most once per outage) instead of becoming unhandled. */
export function createRedis(options: RedisOptions, logger: Logger, name: string): Redis {
  const redis = new Redis({ ...options, connectionName: name, lazyConnect: false });
  let down = false;
  redis.on('error', (error) => {
    if (!down) logger.warn({ err: error, connection: name }, 'Redis connection failed; reconnecting');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ connection: name }, 'Redis connection restored');
    down = false;
  });
  return redis;
}
