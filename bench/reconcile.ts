import { Queue } from 'bullmq';
import { QUEUE_NAME, type JobData } from '@fibstack/contract/jobs';
import { createLogger } from '@fibstack/service-kit/logger';
import { Reconciler } from '../worker/src/reconcile/reconciler.js';
import type { BenchStack } from './bench-stack.js';
import { machineLoad, startCpuMeasure } from './cpu.js';
import { median, round } from './stats.js';

export interface ReconcileOptions {
  /** Submissions stored before each measurement, in increasing order (rows are added, never removed). */
  sizes: number[];
  /** Passes measured at each size, after one that queues the unresolved indexes' jobs. */
  passes: number;
}

/** Indexes the submissions spread over: the default MAX_INDEX, so the biggest size repeats every one. */
const INDEXES = 100_001;
/** Submitted indexes without a value, the same ones at every size: the work a pass exists to find. */
const UNRESOLVED = 100;
const isUnresolved = (index: number) => index % 100 === 0 && index < UNRESOLVED * 100;

/**
 * One reconcile pass (the worker's Reconciler, against the bench stack's Postgres and Redis) with
 * `sizes` submissions stored, generated with SQL: submission n is of index n mod 100,001, every index
 * submitted has its value but the same 100. The worker is stopped meanwhile, so the unresolved stay
 * unresolved and its own reconciler does not run. The first pass at each size also clears the flags of
 * the indexes whose values were just stored (once per index, as in production); the passes after it,
 * once vacuum has removed what clearing left behind, should cost the same at every size.
 */
export async function reconcilePasses(bench: BenchStack, { sizes, passes }: ReconcileOptions) {
  await bench.reset();
  await bench.stack.stopService('worker');
  const queue = new Queue<JobData>(QUEUE_NAME, { connection: bench.redis });
  const reconciler = new Reconciler(bench.pool, queue, createLogger('bench', 'silent'));
  const rows = [];
  let stored = 0;
  try {
    for (const size of sizes) {
      await recordSubmissions(bench, stored, size);
      stored = size;
      const distinct = Math.min(size, INDEXES);
      await bench.pool.query(
        `INSERT INTO results (index, value, digits, compute_ms)
         SELECT g, '1', 1, 0 FROM generate_series(0, $1::int - 1) AS g WHERE NOT (g % 100 = 0 AND g < $2::int) ON CONFLICT DO NOTHING`,
        [distinct, UNRESOLVED * 100],
      );
      // Settle the bulk load first, so background vacuum or checkpoint I/O does not land in the measurement.
      await bench.pool.query('VACUUM ANALYZE');
      await bench.pool.query('CHECKPOINT');
      await bench.redis.flushall();

      const started = performance.now();
      const queued = await reconciler.reconcile();
      const firstPassMs = performance.now() - started;
      const measure = async () => {
        const passMs: number[] = [];
        const stop = startCpuMeasure({ postgres: bench.cpu.postgres!, reconciler: bench.cpu['load generator']! });
        for (let pass = 0; pass < passes; pass++) {
          const began = performance.now();
          await reconciler.reconcile();
          passMs.push(performance.now() - began);
        }
        const { usedUs } = stop();
        return { passMs, postgresUs: usedUs.postgres! / passes, reconcilerUs: usedUs.reconciler! / passes };
      };
      // The flags the first pass cleared leave dead entries in the partial index until vacuum removes them
      // (autovacuum does once a fifth of the table is dead row versions).
      const unvacuumed = await measure();
      await bench.pool.query('VACUUM submitted_indexes');
      const steady = await measure();
      rows.push({
        submissions: size,
        indexes: distinct,
        unresolved: Array.from({ length: distinct }, (_, i) => i).filter(isUnresolved).length,
        queuedByFirstPass: queued,
        firstPassMs: round(firstPassMs, 1),
        beforeVacuumPassMsMedian: round(median(unvacuumed.passMs), 1),
        beforeVacuumPostgresCpuMsPerPass: round(unvacuumed.postgresUs / 1000, 1),
        passMsMedian: round(median(steady.passMs), 1),
        passMs: steady.passMs.map((ms) => round(ms, 1)),
        postgresCpuMsPerPass: round(steady.postgresUs / 1000, 1),
        reconcilerCpuMsPerPass: round(steady.reconcilerUs / 1000, 1),
        load: machineLoad(),
      });
    }
  } finally {
    await queue.close();
    await bench.stack.startService('worker');
  }
  const first = rows[0]!;
  const last = rows.at(-1)!;
  // Postgres CPU is read in clock ticks (10 ms) over all the passes: per pass, it is that coarse divided by `passes`.
  return { rows, ratio: round(last.passMsMedian / Math.max(first.passMsMedian, 0.1)) };
}

/**
 * Submissions number `from` … `to - 1`, as the API would have stored them: counted on their index's
 * row, which a new index gets flagged pending (server/src/values/store.ts).
 */
async function recordSubmissions(bench: BenchStack, from: number, to: number): Promise<void> {
  // In slices, as the API would in many statements.
  const slice = 1_000_000;
  for (let start = from; start < to; start += slice) {
    await bench.pool.query(
      `INSERT INTO submitted_indexes AS s (index, submissions)
       SELECT g % $3::int, count(*) FROM generate_series($1::int, $2::int - 1) AS g GROUP BY 1 ORDER BY 1
       ON CONFLICT (index) DO UPDATE SET
         submissions = s.submissions + EXCLUDED.submissions,
         last_submitted_at = EXCLUDED.last_submitted_at,
         last_submission = EXCLUDED.last_submission,
         pending = s.pending OR NOT EXISTS (SELECT 1 FROM results r WHERE r.index = EXCLUDED.index)`,
      [start, Math.min(start + slice, to), INDEXES],
    );
  }
}
