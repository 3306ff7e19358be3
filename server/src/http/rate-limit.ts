import type { RequestHandler } from 'express';
import { rateLimit, type IncrementResponse } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { HttpError } from './errors.js';

/**
 * RedisStore loads its Lua script once, when the limiter is created, and keeps that promise. A fail-fast
 * connection that is not connected yet (process start-up) rejects it, and every later call would fail on
 * the cached rejection, leaving limiting off for good. So after a failure, reload the script and try once
 * more: on a fail-fast connection a failure means the command never ran, so nothing is counted twice.
 */
class SelfHealingRedisStore extends RedisStore {
  override async increment(key: string): Promise<IncrementResponse> {
    try {
      return await super.increment(key);
    } catch {
      this.incrementScriptSha = this.loadIncrementScript();
      return super.increment(key);
    }
  }
}

/**
 * Per-client-IP limit on /api, counted in Redis so every replica shares one budget. If Redis is away
 * the limiter lets requests through (the API must keep accepting submissions into Postgres).
 */
export function rateLimiter(redis: Redis, perMinute: number, logger: Logger): RequestHandler {
  const store = new SelfHealingRedisStore({
    prefix: 'fibstack:rate:',
    sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
  });
  const warn = (error: unknown, message?: string) => logger.warn({ err: error }, message);
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    passOnStoreError: true,
    store,
    // A Redis outage is already reported by the connection and /readyz: one warning per request is plenty.
    logger: { error: warn, warn },
    handler: (_req, _res, next) => {
      next(new HttpError('rate_limited', `too many requests: at most ${perMinute} a minute, try again shortly`));
    },
  });
}
