import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fibstack/devstack/ports';
import { startBenchStack } from './bench-stack.js';
import { indexesFrom, postIndexes } from './http-load.js';
import { processCpuUs } from './cpu.js';
const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-gc-'));
const bench = await startBenchStack(dataDir, { MAX_INDEX: '10000000' });
await bench.stack.stopService('worker');
const next = indexesFrom(1_000_000);
try {
  for (const flags of (process.env.VARIANTS ?? '').split('|')) {
    const port = await freePort();
    const child = spawn(process.execPath, ['--trace-gc', ...flags.split(' ').filter(Boolean), 'server/dist/main.js'], { env: { ...process.env, DATABASE_URL: bench.stack.databaseUrl, REDIS_URL: bench.stack.redisUrl, PORT: String(port), LOG_LEVEL: 'silent', MAX_INDEX: '10000000' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = ''; child.stdout.on('data', (c) => (out += c));
    const url = `http://127.0.0.1:${port}`;
    for (;;) { try { if ((await fetch(url + '/readyz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
    await postIndexes(url, 50, { duration: 2 }, next);
    out = '';
    const c0 = processCpuUs(child.pid);
    const r = await postIndexes(url, 50, { duration: 5 }, next);
    const cpu = processCpuUs(child.pid) - c0;
    const sc = [...out.matchAll(/Scavenge[^\n]*?, ([\d.]+) \/ ([\d.]+) ms/g)].map((m) => Number(m[1]));
    const ms = [...out.matchAll(/Mark-Compact[^\n]*?, ([\d.]+) \/ ([\d.]+) ms/g)].map((m) => Number(m[1]));
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    console.log(flags.padEnd(50), 'req', r.requests, 'scavenges/1k req', (1000 * sc.length / r.requests).toFixed(1), 'scavenge µs/req', (1000 * sum(sc) / r.requests).toFixed(1), 'MC µs/req', (1000 * sum(ms) / r.requests).toFixed(1), 'cpu µs/req', Math.round(cpu / r.requests));
    const last = out.split('\n').filter((l) => l.includes('Scavenge')).at(-1); console.log('   ', last?.slice(0, 160));
    child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r));
  }
} finally { await bench.close(); await rm(dataDir, { recursive: true, force: true }); }
