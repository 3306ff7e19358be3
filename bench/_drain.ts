import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JOB_OPTIONS, jobIdFor } from '@fibstack/contract/jobs';
import { startBenchStack } from './bench-stack.js';
import { machineLoad, perUnit, processCpuUs, startCpuMeasure } from './cpu.js';
import { median } from './stats.js';
import { waitUntil } from './wait.js';
const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-drain-'));
const bench = await startBenchStack(dataDir);
const variants = (process.env.VARIANTS ?? 'cur=worker/dist/main.js').split('|').map((v) => { const i = v.indexOf('='); return { label: v.slice(0, i), main: v.slice(i + 1), jps: [] as number[], us: [] as string[] }; });
const n = Number(process.env.N ?? 10000);
try {
  await bench.stack.stopService('worker');
  for (let round = 0; round < Number(process.env.ROUNDS ?? 2); round++) for (const v of variants) {
    await bench.redis.flushall(); await bench.pool.query('TRUNCATE submissions, results');
    await bench.pool.query('INSERT INTO submissions (index) SELECT g FROM generate_series(0, $1::int - 1) g', [n]);
    for (let i = 0; i < n; i += 500) await bench.queue.addBulk(Array.from({ length: Math.min(500, n - i) }, (_, k) => ({ name: 'fibonacci', data: { index: i + k, requestId: 'x' }, opts: { ...JOB_OPTIONS, jobId: jobIdFor(i + k) } })));
    const worker = spawn(process.execPath, [...(process.env.NODEFLAGS ? process.env.NODEFLAGS.split(' ') : []), v.main], { env: { ...process.env, DATABASE_URL: bench.stack.databaseUrl, REDIS_URL: bench.stack.redisUrl, LOG_LEVEL: 'info', ...(process.env.WENV ? JSON.parse(process.env.WENV) : {}) }, stdio: ['ignore', 'ignore', 'inherit'] });
    await bench.redis.config('RESETSTAT');
    const stop = startCpuMeasure({ worker: () => processCpuUs(worker.pid), postgres: bench.cpu.postgres!, redis: bench.cpu.redis! });
    const t0 = Date.now();
    await waitUntil(async () => (await bench.pool.query('SELECT count(*)::int n FROM results')).rows[0].n >= n, { timeoutMs: 120000, intervalMs: 100, what: 'all' });
    const cpu = stop();
    if (process.env.STATS) console.log((await bench.redis.info('commandstats')).split('\n').filter((l) => l.startsWith('cmdstat')).map((l) => l.replace(/,usec_per_call.*$/, '').replace(/cmdstat_/, '')).join('\n'));
    const first = (await bench.pool.query('SELECT min(computed_at) a, max(computed_at) m FROM results')).rows[0];
    const jps = Math.round(n / ((first.m.getTime() - first.a.getTime()) / 1000));
    v.jps.push(jps); v.us.push(JSON.stringify(perUnit(cpu, n)));
    worker.kill('SIGTERM'); await new Promise((r) => worker.once('exit', r));
  }
  for (const v of variants) console.log(v.label.padEnd(10), 'jobs/s median', median(v.jps), JSON.stringify(v.jps), v.us.join(' '));
  console.log(machineLoad());
} finally { await bench.close(); await rm(dataDir, { recursive: true, force: true }); }
