import type { Redis } from 'ioredis';
import type pg from 'pg';
import { sleep } from '@fibstack/devstack/testkit';

/**
 * What the stores hold and did, read before and after a run: the capacity model's Postgres and Redis
 * inputs (bench/capacity/model.ts). Sizes count every page of a table, its indexes and TOAST included
 * (pg_total_relation_size); WAL bytes and commits are what the disk must absorb; Redis commands are
 * every command any client sent (INFO commandstats), its memory what it holds (used_memory).
 */
export interface StoreSnapshot {
  submittedIndexesBytes: number;
  submittedIndexesRows: number;
  resultsBytes: number;
  resultsRows: number;
  walBytes: number;
  commits: number;
  redisCommands: number;
  redisUsedBytes: number;
}

/**
 * Backends publish their commit counts at most once a second (pending statistics, Postgres 15 and
 * later): read this long after a run, the counts include all of its commits.
 */
const STATS_FLUSH_MS = 1_500;

export async function storeSnapshot(pool: pg.Pool, redis: Redis, { afterRun = false } = {}): Promise<StoreSnapshot> {
  if (afterRun) await sleep(STATS_FLUSH_MS);
  const { rows } = await pool.query<{ [key: string]: string }>(
    `SELECT pg_total_relation_size('submitted_indexes') AS submitted_bytes,
            (SELECT count(*) FROM submitted_indexes) AS submitted_rows,
            pg_total_relation_size('results') AS results_bytes,
            (SELECT count(*) FROM results) AS results_rows,
            pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0') AS wal_bytes,
            (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits`,
  );
  const row = rows[0]!;
  return {
    submittedIndexesBytes: Number(row.submitted_bytes),
    submittedIndexesRows: Number(row.submitted_rows),
    resultsBytes: Number(row.results_bytes),
    resultsRows: Number(row.results_rows),
    walBytes: Number(row.wal_bytes),
    commits: Number(row.commits),
    ...(await redisCounters(redis)),
  };
}

/** Every command Redis has run (the sum of INFO commandstats' calls) and the memory it holds. */
export async function redisCounters(redis: Redis): Promise<{ redisCommands: number; redisUsedBytes: number }> {
  const [commandstats, memory] = await Promise.all([redis.info('commandstats'), redis.info('memory')]);
  let redisCommands = 0;
  for (const match of commandstats.matchAll(/calls=(\d+)/g)) redisCommands += Number(match[1]);
  return { redisCommands, redisUsedBytes: Number(/used_memory:(\d+)/.exec(memory)![1]) };
}

/** What a run added per unit (a submission, a job), from two snapshots; the stats queries' own commands counted in. */
export function storeCostsPer(before: StoreSnapshot, after: StoreSnapshot, units: number) {
  const per = (key: keyof StoreSnapshot, digits = 1) => Math.round(((after[key] - before[key]) / units) * 10 ** digits) / 10 ** digits;
  return {
    submittedIndexesBytesPerSubmission: per('submittedIndexesBytes'),
    submittedIndexesRowsPerSubmission: per('submittedIndexesRows', 3),
    resultsBytesPerResult: per('resultsBytes'),
    resultsRowsPerResult: per('resultsRows', 3),
    walBytesPerJob: per('walBytes'),
    commitsPerJob: per('commits', 3),
    redisCommandsPerJob: per('redisCommands'),
  };
}

/** Client connections to the app's database, this benchmark's own pool excluded: what the services hold. */
export async function serviceConnections(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
  );
  return rows[0]!.n - pool.totalCount;
}
