import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fibstack/devstack/ports';
import { startBenchStack } from './bench-stack.js';
import { indexesFrom, postIndexes } from './http-load.js';
const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-heap-'));
const bench = await startBenchStack(dataDir, { MAX_INDEX: '10000000' });
await bench.stack.stopService('worker');
const port = await freePort();
const flags = (process.env.NODEFLAGS ?? '').split(' ').filter(Boolean);
const child = spawn(process.execPath, [...flags, process.env.MAIN ?? 'server/dist/main.js'], { env: { ...process.env, DATABASE_URL: bench.stack.databaseUrl, REDIS_URL: bench.stack.redisUrl, PORT: String(port), LOG_LEVEL: 'info', MAX_INDEX: '10000000' }, stdio: ['ignore', 'ignore', 'inherit'] });
const url = `http://127.0.0.1:${port}`;
for (;;) { try { if ((await fetch(url + '/readyz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
const next = indexesFrom(1_000_000);
try {
  await postIndexes(url, 50, { duration: 2 }, next);
  const r = await postIndexes(url, 50, { duration: Number(process.env.SECS ?? 5) }, next);
  console.log('requests', r.requests, r.requestsPerSecond);
} finally { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); await bench.close(); await rm(dataDir, { recursive: true, force: true }); }
