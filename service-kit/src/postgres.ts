import pg from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { intVar, optionalVar, secretVar, stringVar, urlVar } from './config.js';

/**
 * Postgres settings: DATABASE_URL, or the libpq-style PG* variables when it is unset (PGPASSWORD also
 * serves a DATABASE_URL without a password, as libpq does). The secrets may come from files instead
 * (DATABASE_URL_FILE, PGPASSWORD_FILE). PG_POOL_MAX bounds connections per process;
 * PG_CONNECT_TIMEOUT_MS is how long a request waits for one.
 */
export const postgresEnv = z.object({
  ...secretVar('DATABASE_URL', urlVar(['postgres', 'postgresql'])),
  PGHOST: stringVar('127.0.0.1'),
  PGPORT: intVar(1, 65535, 5432),
  PGUSER: stringVar('postgres'),
  ...secretVar('PGPASSWORD', optionalVar()),
  PGDATABASE: stringVar('fibstack'),
  PG_POOL_MAX: intVar(1, 200, 20),
  PG_CONNECT_TIMEOUT_MS: intVar(100, 60_000, 1_000),
});
export type PostgresEnv = z.infer<typeof postgresEnv>;

/**
 * DATABASE_URL, with PGPASSWORD filled in when the URL has none. pg would read a PGPASSWORD from the
 * environment by itself, but not one that came from PGPASSWORD_FILE.
 */
function connectionStringFrom(databaseUrl: string, password: string | undefined): string {
  const url = new URL(databaseUrl);
  if (url.password || password === undefined) return databaseUrl;
  url.password = encodeURIComponent(password);
  return url.toString();
}

export function poolConfigFrom(env: PostgresEnv): pg.PoolConfig {
  const connection = env.DATABASE_URL
    ? { connectionString: connectionStringFrom(env.DATABASE_URL, env.PGPASSWORD) }
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
