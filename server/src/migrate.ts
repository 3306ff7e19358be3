import { configOrExit, parseEnv } from '@fibstack/service-kit/config';
import { createLogger, logCrashes } from '@fibstack/service-kit/logger';
import { migrate } from '@fibstack/service-kit/migrate';
import { createPool, poolConfigFrom } from '@fibstack/service-kit/postgres';
import { migrateEnv } from './config.js';

/** `node dist/migrate.js`: brings the database schema up to date, then exits 0, or 1 saying why not. */
const config = configOrExit(() => parseEnv(migrateEnv, process.env));
const logger = createLogger('migrate', config.LOG_LEVEL);
logCrashes(logger);
// Migrations may wait on the advisory lock or a slow first connection; give them time.
const pool = createPool({ ...poolConfigFrom(config), max: 1, connectionTimeoutMillis: 10_000 }, logger);

try {
  await migrate(pool, logger);
} catch (error) {
  logger.fatal({ err: error }, 'migration failed');
  process.exitCode = 1;
} finally {
  await pool.end();
}
