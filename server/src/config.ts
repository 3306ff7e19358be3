import express from 'express';
import { z } from 'zod';
import { DEFAULT_MAX_INDEX } from '@fibstack/contract/values';
import { boolVar, intVar, logLevelVar, optionalVar, parseEnv, secretVar, stringVar } from '@fibstack/service-kit/config';
import { postgresEnv } from '@fibstack/service-kit/postgres';
import { checkRedisEnv, redisEnv } from '@fibstack/service-kit/redis';
import { fitsBudget, largestMaxIndexFor, storedBytesUpTo, VALUES_SHARE } from '@fibstack/service-kit/storage-budget';

/** Throws if Express cannot read `value` as its `trust proxy` setting. */
function compilesAsTrustProxy(value: number | boolean | string): boolean {
  try {
    express().set('trust proxy', value);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which hops may set X-Forwarded-For: a hop count (`1` behind one proxy), `false`, or a comma-separated
 * list of addresses, subnets and the names loopback/linklocal/uniquelocal. A bare number must mean a hop
 * count: Express would otherwise read `1` as the address 0.0.0.1 and trust nobody useful.
 */
const trustProxyVar = stringVar('false')
  .transform((raw): number | boolean | string => (/^\d+$/.test(raw) ? Number(raw) : raw === 'false' ? false : raw))
  .refine(
    (value) => value !== 'true' && compilesAsTrustProxy(value),
    'must be a hop count, false, or a comma-separated list of addresses, subnets, loopback, linklocal, uniquelocal ("true" trusts any client)',
  );

/** A dashboard that can retry and delete jobs deserves more than a guessable password. */
const MIN_ADMIN_PASSWORD = 12;

/** Every variable the server reads, with its default: the one place those defaults are written. */
export const serverEnv = z
  .object({
    ...postgresEnv.shape,
    ...redisEnv.shape,
    PORT: intVar(1, 65535, 5000),
    /** Address to listen on; unset means every interface (containers). `npm start` sets 127.0.0.1. */
    HOST: optionalVar(),
    LOG_LEVEL: logLevelVar,
    MAX_INDEX: intVar(0, 10_000_000, DEFAULT_MAX_INDEX),
    /**
     * The disk the database may fill, in GiB: the size of Postgres's volume (the k8s claim is 10Gi; a
     * compose volume takes what the host's disk has). The values of every index up to MAX_INDEX must fit
     * in VALUES_SHARE of it, or the server refuses to start: anyone may submit every index, and a full
     * volume stops Postgres for everyone.
     */
    STORAGE_BUDGET_GIB: intVar(1, 65_536, 10),
    /** Built client to serve with SPA fallback (native `npm start`); containers use nginx instead. */
    STATIC_DIR: optionalVar(),
    /** Off for a developer's own machine (`npm start`); compose and Kubernetes turn it on. */
    RATE_LIMIT_ENABLED: boolVar(false),
    /** Per client address: ten a second on average, room for everyone behind one office NAT. */
    RATE_LIMIT_PER_MINUTE: intVar(1, 1_000_000, 600),
    /**
     * Express `trust proxy`: which hops may set X-Forwarded-For. None by default (`npm start` is reached
     * directly); compose and Kubernetes trust their one hop, the edge, which sets the header itself.
     */
    TRUST_PROXY: trustProxyVar,
    /** Allowed cross-origin caller; unset means no CORS headers at all (the client is same-origin). */
    CORS_ORIGIN: optionalVar(),
    SHUTDOWN_TIMEOUT_MS: intVar(0, 120_000, 10_000),
    /**
     * After SIGTERM, keep accepting for this long before closing the listener, so connections a balancer
     * sent just before it stopped routing here are served rather than reset by the kernel.
     */
    SHUTDOWN_DRAIN_MS: intVar(0, 60_000, 1_000),
    /** `: ping` comments on every event stream; each also reads any result an announcement missed. */
    SSE_HEARTBEAT_MS: intVar(100, 300_000, 15_000),
    /** Event streams one client address may hold open on this process; more are answered 429. */
    SSE_MAX_STREAMS_PER_CLIENT: intVar(1, 10_000, 8),
    /** Open streams per process, 503 beyond (another replica may take them): p99 50 ms at 1,000, 326 at 4,000 (bench stream-costs). */
    SSE_MAX_STREAMS: intVar(1, 1_000_000, 1_000),
    /**
     * An event stream is ended after at most this long (a random 80–100% of it, so streams opened
     * together do not reconnect together); the browser reconnects and resumes from its last event.
     */
    SSE_STREAM_LIFETIME_MS: intVar(1_000, 86_400_000, 600_000),
    /** bull-board, the queue dashboard for operators, under /admin/queues; off unless asked for. */
    BULL_BOARD_ENABLED: boolVar(false),
    /** Its HTTP basic auth credentials (the password from a Secret), required when it is on. */
    BULL_BOARD_USERNAME: stringVar('admin'),
    ...secretVar('BULL_BOARD_PASSWORD', optionalVar()),
  })
  .superRefine((env, issues) => {
    checkRedisEnv(env, issues);
    if (!fitsBudget(env.MAX_INDEX, env.STORAGE_BUDGET_GIB)) {
      const gib = (storedBytesUpTo(env.MAX_INDEX) / 1024 ** 3).toFixed(1);
      issues.addIssue({
        code: 'custom',
        path: ['MAX_INDEX'],
        message:
          `the values of indexes 0 to ${env.MAX_INDEX} take about ${gib} GiB on disk, more than ${VALUES_SHARE * 100}% of ` +
          `STORAGE_BUDGET_GIB (${env.STORAGE_BUDGET_GIB} GiB); at most ${largestMaxIndexFor(env.STORAGE_BUDGET_GIB)} fits it ` +
          `(or give the database a larger volume and raise STORAGE_BUDGET_GIB)`,
      });
    }
    if (env.BULL_BOARD_ENABLED && (env.BULL_BOARD_PASSWORD ?? '').length < MIN_ADMIN_PASSWORD) {
      issues.addIssue({
        code: 'custom',
        path: ['BULL_BOARD_PASSWORD'],
        message: `must be set, at least ${MIN_ADMIN_PASSWORD} characters, when BULL_BOARD_ENABLED is true`,
      });
    }
  });

/** What `node dist/migrate.js` reads: the database settings and the log level. */
export const migrateEnv = z.object({ ...postgresEnv.shape, LOG_LEVEL: logLevelVar });

/** The server's settings, validated and converted once at start-up. */
export type ServerConfig = z.infer<typeof serverEnv>;

/** Reads and validates the server's environment once; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return parseEnv(serverEnv, env);
}
