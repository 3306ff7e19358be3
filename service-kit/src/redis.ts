import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { boolVar, intVar, optionalVar, secretVar, stringVar, urlVar } from './config.js';

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
  /**
   * The Redis named above is a node of a Redis Cluster (ElastiCache cluster mode: its configuration
   * endpoint): the services then use a cluster client, the queue's keys share one hash slot, and results
   * are announced on sharded pub/sub. Off: one Redis (or a primary with replicas behind one endpoint).
   */
  REDIS_CLUSTER: boolVar(false),
});
export type RedisEnv = z.infer<typeof redisEnv>;

/** A connection to one Redis or to a Redis Cluster; both take the same commands. */
export type RedisClient = Redis | Cluster;

/**
 * A settings check for a service's `superRefine`: a cluster has only database 0, and a database number
 * in REDIS_URL would otherwise be ignored without a word.
 */
export function checkRedisEnv(env: RedisEnv, issues: z.RefinementCtx): void {
  // zod runs this check even when REDIS_URL failed its own (which reports it, masked): an unparsable URL
  // must not throw here, as URL's error carries the whole input, password included.
  if (env.REDIS_URL && !URL.canParse(env.REDIS_URL)) return;
  const database = env.REDIS_URL ? new URL(env.REDIS_URL).pathname.slice(1) : '';
  if (env.REDIS_CLUSTER && !['', '0'].includes(database)) {
    issues.addIssue({
      code: 'custom',
      path: ['REDIS_URL'],
      message: 'a Redis Cluster has only database 0: leave the database out of the URL when REDIS_CLUSTER is true',
    });
  }
}

/**
 * BullMQ's key prefix. On a Redis Cluster every key a queue's Lua scripts touch must be in one hash slot,
 * and Redis hashes only the part in braces: `{bull}:fibonacci:wait`, `{bull}:fibonacci:id`, … all land in
 * the slot of `bull`, on one shard. One Redis keeps the usual `bull:` (the keys ACL rules and KEDA name).
 */
export function queuePrefix(env: Pick<RedisEnv, 'REDIS_CLUSTER'>): string {
  return env.REDIS_CLUSTER ? '{bull}' : 'bull';
}

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

export interface ConnectOptions {
  /** Commands issued in one tick share one write (ioredis auto-pipelining). */
  autoPipelining?: boolean;
  /**
   * This connection listens on pub/sub. On a cluster it then subscribes with SSUBSCRIBE (sharded pub/sub),
   * one connection per shard that owns a subscribed channel, instead of hearing every shard's PUBLISH.
   */
  subscriber?: boolean;
}

/**
 * The cluster client for `options` (one node of the cluster: ioredis asks it for the others). ElastiCache
 * names its nodes by address, which TLS cannot verify against their certificates: the configuration
 * endpoint's name is kept for every node (`dnsLookup`), as AWS advises for ioredis.
 */
function clusterClient(options: RedisOptions, role: RedisRole, connect: ConnectOptions): Cluster {
  const { host, port, db: _db, retryStrategy, enableOfflineQueue, ...perNode } = options;
  const cluster: ClusterOptions = {
    redisOptions: perNode,
    clusterRetryStrategy: (attempt) => retryStrategy!(attempt) ?? null,
    // Fail fast on the HTTP path, as a single connection does (redisOptionsFrom).
    enableOfflineQueue: role === 'blocking' ? true : (enableOfflineQueue ?? true),
    enableAutoPipelining: connect.autoPipelining ?? false,
    shardedSubscribers: connect.subscriber ?? false,
    ...(perNode.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  return new Cluster([{ host: host!, port: port! }], cluster);
}

/**
 * A connection to the Redis `env` names (a cluster client when REDIS_CLUSTER is on), whose errors are
 * logged (at most once per outage) instead of becoming unhandled.
 */
export function connectRedis(env: RedisEnv, role: RedisRole, logger: Logger, name: string, connect: ConnectOptions = {}): RedisClient {
  const options: RedisOptions = {
    ...redisOptionsFrom(env, role),
    connectionName: name,
    enableAutoPipelining: connect.autoPipelining ?? false,
  };
  return watchErrors(
    env.REDIS_CLUSTER ? clusterClient(options, role, connect) : new Redis({ ...options, lazyConnect: false }),
    logger,
    name,
  );
}

/** Announces `message` on `channel`: PUBLISH on one Redis, SPUBLISH (to the channel's shard only) on a cluster. */
export function publish(client: RedisClient, channel: string, message: string): Promise<unknown> {
  return client instanceof Cluster ? client.spublish(channel, message) : client.publish(channel, message);
}

/** Subscribes to `channel` as `publish` announces on it; resolves once the subscription is in place. */
export async function subscribe(client: RedisClient, channel: string): Promise<void> {
  await (client instanceof Cluster ? client.ssubscribe(channel) : client.subscribe(channel));
}

/** Calls `listener` with every message heard on the channels `subscribe` subscribed to. */
export function onMessage(client: RedisClient, listener: (channel: string, message: string) => void): void {
  client.on(client instanceof Cluster ? 'smessage' : 'message', listener);
}

/**
 * Calls `listener` each time the subscription to `channel` is back in place after a break (a reconnect;
 * on a cluster, also a failover that moved the channel's shard), whatever was announced meanwhile being
 * lost. On one Redis, ioredis re-subscribes by itself once ready; subscribing again changes nothing in
 * Redis and says when the subscription is in place. On a cluster, ioredis re-subscribes every shard's
 * channels and then says so (`subscribersReady`).
 */
export function onResubscribed(client: RedisClient, channel: string, listener: () => void): void {
  if (client instanceof Cluster) return void client.on('subscribersReady', listener);
  client.on('ready', () => {
    // A failure means the connection broke again: its next 'ready' comes back here.
    client.subscribe(channel).then(listener, () => undefined);
  });
}

function watchErrors<C extends RedisClient>(redis: C, logger: Logger, name: string): C {
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
