import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { HttpError } from './errors.js';

/**
 * Per-client-IP limit on /api, counted in Redis so every replica shares one budget. If Redis is away
 * the limiter lets requests through (the API must keep accepting submissions into Postgres).
 */
export function rateLimiter(redis: Redis, perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    passOnStoreError: true,
    store: new RedisStore({
      prefix: 'fibstack:rate:',
      sendCommand: (command: string, ...args: string[]) => redis.call(command, ...args) as Promise<RedisReply>,
    }),
    handler: (_req, _res, next) => {
      next(new HttpError('rate_limited', `too many requests: at most ${perMinute} a minute, try again shortly`));
    },
  });
}
