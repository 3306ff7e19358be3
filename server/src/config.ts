import { z } from 'zod';
import { DEFAULT_MAX_INDEX } from '@fibstack/contract/values';
import { boolVar, intVar, logLevelVar, optionalVar, parseEnv, stringVar } from '@fibstack/service-kit/config';
import { postgresEnv } from '@fibstack/service-kit/postgres';
import { redisEnv } from '@fibstack/service-kit/redis';

const serverEnv = z.object({
  ...postgresEnv.shape,
  ...redisEnv.shape,
  PORT: intVar(1, 65535, 5000),
  LOG_LEVEL: logLevelVar,
  MAX_INDEX: intVar(0, 10_000_000, DEFAULT_MAX_INDEX),
  /** Built client to serve with SPA fallback (native `npm start`); containers use nginx instead. */
  STATIC_DIR: optionalVar(),
  RATE_LIMIT_ENABLED: boolVar(false),
  RATE_LIMIT_PER_MINUTE: intVar(1, 1_000_000, 300),
  /** Express `trust proxy`: which hops may set X-Forwarded-For (the edge nginx, an ingress). */
  TRUST_PROXY: stringVar('loopback, linklocal, uniquelocal'),
  /** Allowed cross-origin caller; unset means no CORS headers at all (the client is same-origin). */
  CORS_ORIGIN: optionalVar(),
  SHUTDOWN_TIMEOUT_MS: intVar(0, 120_000, 10_000),
  SSE_HEARTBEAT_MS: intVar(100, 300_000, 15_000),
});

export type ServerConfig = z.infer<typeof serverEnv>;

/** Reads and validates the server's environment once; throws ConfigError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return parseEnv(serverEnv, env);
}
