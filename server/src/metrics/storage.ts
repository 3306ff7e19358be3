import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { withDeadline } from '@fibstack/service-kit/deadline';

/** A scrape must answer even when Postgres does not. */
const SIZE_TIMEOUT_MS = 1_000;

/**
 * `fibstack_database_size_bytes` (read at scrape time) beside `fibstack_storage_budget_bytes`
 * (STORAGE_BUDGET_GIB), for the alert FibstackDatabaseNearlyFull: the database against the disk it may
 * fill. The size counts tables and indexes, not the write-ahead log: that is what the share of the
 * budget left to other things is for (service-kit/src/storage-budget.ts, VALUES_SHARE).
 */
export function registerStorageGauges(registry: Registry, pool: pg.Pool, budgetGib: number): void {
  new Gauge({
    name: 'fibstack_storage_budget_bytes',
    help: 'The disk the database may fill (STORAGE_BUDGET_GIB)',
    registers: [registry],
  }).set(budgetGib * 1024 ** 3);
  new Gauge({
    name: 'fibstack_database_size_bytes',
    help: "The database's size on disk, tables and indexes (pg_database_size), read at scrape time",
    registers: [registry],
    async collect() {
      try {
        const { rows } = await withDeadline(
          pool.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes'),
          SIZE_TIMEOUT_MS,
          'database size',
        );
        this.set(Number(rows[0]!.bytes));
      } catch {
        // Postgres is down: leave the last value; the health checks report the outage.
      }
    },
  });
}
