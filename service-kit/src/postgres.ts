import pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { intVar, optionalVar, stringVar, urlVar } from './config.js';

/**
 * Postgres settings: DATABASE_URL, or the libpq-style PG* variables when it is unset.
 * PG_POOL_MAX bounds connections per process; PG_CONNECT_TIMEOUT_MS is how long a request waits for one.
 */
export const postgresEnv = z.object({
  DATABASE_URL: urlVar(['postgres', 'postgresql']),
  PGHOST: stringVar('127.0.0.1'),
  PGPORT: intVar(1, 65535, 5432),
  PGUSER: stringVar('postgres'),
  PGPASSWORD: optionalVar(),
  PGDATABASE: stringVar('fibstack'),
  PG_POOL_MAX: intVar(1, 200, 20),
  PG_CONNECT_TIMEOUT_MS: intVar(100, 60_000, 1_000),
});
export type PostgresEnv = z.infer<typeof postgresEnv>;

export function poolConfigFrom(env: PostgresEnv): pg.PoolConfig {
  const connection = env.DATABASE_URL
    ? { connectionString: env.DATABASE_URL }
    : { host: env.PGHOST, port: env.PGPORT, user: env.PGUSER, password: env.PGPASSWORD, database: env.PGDATABASE };
  return {
    ...connection,
    max: env.PG_POOL_MAX,
    connectionTimeoutMillis: env.PG_CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
  };
}

/**
 * A pool whose idle-client errors (Postgres restarting, network blips) are logged instead of crashing
 * the process; the pool replaces broken clients on the next checkout.
 */
export function createPool(config: pg.PoolConfig, logger: Logger): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', (error) => logger.warn({ err: error }, 'idle Postgres client failed; it will be replaced'));
  return pool;
}

/** True when a query error means Postgres itself is unreachable, not that the query was wrong. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: string }).code;
  if (code && /^(08|57P0[1-3]|53300)/.test(code)) return true;
  if (code && ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(code)) return true;
  return /timeout exceeded when trying to connect|Connection terminated|connection timeout/i.test(error.message);
}
