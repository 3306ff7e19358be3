import type { RequestHandler } from 'express';
import { MemoryStore, rateLimit, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import type { RedisClient } from '@fibstack/service-kit/redis';
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
 * Counts in Redis, so every replica shares one budget. While Redis cannot count (an outage), each process
 * counts on its own instead: a client then meets the limit once per process (so up to the limit times the
 * number of replicas), never no limit at all, and the API still accepts submissions into Postgres.
 * Refusing every request instead would turn a Redis outage into a full one; letting every request
 * through would leave only the edge's floor (nginx/conf/api-locations.conf), and nothing where the API is
 * reached without the edge.
 */
class RedisOrLocalStore implements Store {
  readonly localKeys = false;
  private readonly local = new MemoryStore();
  private countingLocally = false;

  constructor(
    private readonly shared: RedisStore,
    private readonly logger: Logger,
  ) {}

  /** express-rate-limit logs a rejection of this promise (Redis away at start-up); increment() heals it. */
  async init(options: Options): Promise<void> {
    this.local.init(options);
    await this.shared.init(options);
  }

  async increment(key: string): Promise<IncrementResponse> {
    try {
      const counted = await this.shared.increment(key);
      if (this.countingLocally) this.logger.info('rate limiter: Redis counts again, shared by every replica');
      this.countingLocally = false;
      return counted;
    } catch (error) {
      // Once per outage: the connection and /readyz report the outage itself.
      if (!this.countingLocally)
        this.logger.warn({ err: error }, 'rate limiter: Redis cannot count; counting in this process until it can');
      this.countingLocally = true;
      return this.local.increment(key);
    }
  }

  async decrement(key: string): Promise<void> {
    await (this.countingLocally ? this.local.decrement(key) : this.shared.decrement(key));
  }

  async resetKey(key: string): Promise<void> {
    await Promise.allSettled([this.shared.resetKey(key), this.local.resetKey(key)]);
  }

  shutdown(): void {
    this.local.shutdown();
  }
}

/**
 * Sends a command of the store to Redis. The store loads its Lua scripts (SCRIPT LOAD) and then runs
 * them by digest (EVALSHA) against each client's key. On a cluster, ioredis sends SCRIPT LOAD, which
 * names no key, to any one node, and EVALSHA to the key's node, which may not have the script: so a
 * script is loaded on every master (and again, by the store, on the NOSCRIPT of a newly promoted one).
 */
function sendCommandTo(redis: RedisClient) {
  return async (command: string, ...args: string[]): Promise<RedisReply> => {
    if (!(redis instanceof Cluster) || command.toUpperCase() !== 'SCRIPT') return redis.call(command, ...args) as Promise<RedisReply>;
    const digests = await Promise.all(redis.nodes('master').map((node) => node.call(command, ...args)));
    return digests[0] as RedisReply;
  };
}

/** Per-client-IP limit on /api, counted in Redis (or, while Redis is away, in this process: above). */
export function rateLimiter(redis: RedisClient, perMinute: number, logger: Logger): RequestHandler {
  // One key per client address: on a cluster, the clients spread over every shard.
  const shared = new SelfHealingRedisStore({ prefix: 'fibstack:rate:', sendCommand: sendCommandTo(redis) });
  const warn = (error: unknown, message?: string) => logger.warn({ err: error }, message);
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new RedisOrLocalStore(shared, logger),
    logger: { error: warn, warn },
    handler: (_req, _res, next) => {
      next(new HttpError('rate_limited', `too many requests: at most ${perMinute} a minute, try again shortly`));
    },
  });
}
