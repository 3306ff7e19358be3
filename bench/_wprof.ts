import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBenchStack } from './bench-stack.js';
import { machineLoad, perUnit, processCpuUs, startCpuMeasure } from './cpu.js';
import { eachOf, postIndexes } from './http-load.js';
import { waitUntil } from './wait.js';
const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-wprof-'));
const bench = await startBenchStack(dataDir);
const profDir = process.env.PROF_DIR ?? '/tmp/wt14-wprof';
const main = process.env.WORKER_MAIN ?? 'worker/dist/main.js';
try {
  await bench.stack.stopService('worker');
  const worker = spawn(process.execPath, [...(process.env.NOPROF ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]), main], { env: { ...process.env, DATABASE_URL: bench.stack.databaseUrl, REDIS_URL: bench.stack.redisUrl, LOG_LEVEL: 'info', ...(process.env.WENV ? JSON.parse(process.env.WENV) : {}) }, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitUntil(async () => (await bench.queue.getWorkers()).length > 0, { timeoutMs: 30000, what: 'w' });
  const n = Number(process.env.N ?? 10000);
  for (let run = 0; run < Number(process.env.RUNS ?? 1); run++) {
    await bench.redis.flushall(); await bench.pool.query('TRUNCATE submissions, results');
    const indexes = Array.from({ length: n }, (_, i) => (i * 7919) % n);
    const stop = startCpuMeasure({ ...bench.cpu, worker: () => processCpuUs(worker.pid) });
    const t0 = Date.now();
    const r = await postIndexes(bench.stack.url, 50, { amount: n }, eachOf(indexes));
    const w = await waitUntil(async () => (await bench.pool.query('SELECT count(*)::int n FROM results')).rows[0].n >= n, { timeoutMs: 60000, intervalMs: 200, what: 'all' });
    const cpu = stop();
    const last = (await bench.pool.query('SELECT max(computed_at) m FROM results')).rows[0].m as Date;
    console.log('jobs/s', Math.round(n / ((last.getTime() - t0) / 1000)), 'submit ms', Date.now() - t0, w.ok, JSON.stringify(perUnit(cpu, n)), 'rej', r.non2xx + r.errors, machineLoad());
  }
  worker.kill('SIGTERM'); await new Promise((r) => worker.once('exit', r));
} finally { await bench.close(); await rm(dataDir, { recursive: true, force: true }); }
