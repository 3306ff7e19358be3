import { readdir, readFile } from 'node:fs/promises';
import type pg from 'pg';
import type { Logger } from 'pino';

/** The migrations that ship with the service (a test may pass another folder). */
const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);

/** Any constant works; it only has to be the same for every process that migrates this database. */
const MIGRATION_LOCK_KEY = 7_400_137;

/**
 * Applies each `migrations/NNN_name.sql` not yet recorded in `schema_migrations`, in name order, each in
 * its own transaction. A session advisory lock serialises concurrent runs (several replicas starting at
 * once), and the second runner finds nothing left to do, so running it again is always safe.
 * A migration that fails is rolled back whole and stops the run with an error naming it.
 * Returns the names applied by this call.
 */
export async function migrate(pool: pg.Pool, logger: Logger, directory: URL = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(directory)).filter((name) => name.endsWith('.sql')).sort();
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((row) => row.name));
    const applied: string[] = [];
    for (const name of files.filter((file) => !done.has(file))) {
      const sql = await readFile(new URL(name, directory), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(name);
      logger.info({ migration: name }, 'migration applied');
    }
    logger.info({ applied: applied.length, total: files.length }, 'database schema is up to date');
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}
