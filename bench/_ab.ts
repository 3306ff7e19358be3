// A/B: several server variants (node flags | dist dir) on one stack, measured alternately.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@fibstack/devstack/ports';
import { startBenchStack } from './bench-stack.js';
import { machineLoad, ownCpuUs, perUnit, processCpuUs, startCpuMeasure } from './cpu.js';
import { indexesFrom, postIndexes } from './http-load.js';
import { median } from './stats.js';
const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-ab-'));
const bench = await startBenchStack(dataDir, { MAX_INDEX: '10000000' });
await bench.stack.stopService('worker');
const next = indexesFrom(1_000_000);
const conns = Number(process.env.CONNS ?? 50);
// VARIANTS: "label=flags@main.js|..."
const variants = (process.env.VARIANTS ?? 'cur=--max-old-space-size=128@server/dist/main.js').split('|').map((v) => { const eq = v.indexOf('='); const label = v.slice(0, eq); const rest = v.slice(eq + 1); const [flags, main] = rest!.split('@'); return { label: label!, flags: flags!.split(' ').filter(Boolean), main: main! }; });
const servers = [];
for (const v of variants) {
  const port = await freePort();
  const child = spawn(process.execPath, [...v.flags, v.main], { env: { ...process.env, DATABASE_URL: bench.stack.databaseUrl, REDIS_URL: bench.stack.redisUrl, PORT: String(port), LOG_LEVEL: 'info', MAX_INDEX: '10000000' }, stdio: ['ignore', 'pipe', 'inherit'] }); child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  for (;;) { try { if ((await fetch(url + '/readyz')).ok) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
  servers.push({ ...v, child, url, samples: [] as number[], rps: [] as number[], p99: [] as number[] });
}
try {
  for (const s of servers) await postIndexes(s.url, conns, { duration: 2 }, next);
  for (let round = 0; round < Number(process.env.ROUNDS ?? 4); round++) for (const s of servers) {
    await postIndexes(s.url, conns, { duration: 0.3 }, next);
    const stop = startCpuMeasure({ server: () => processCpuUs(s.child.pid), postgres: bench.cpu.postgres!, redis: bench.cpu.redis!, lg: ownCpuUs });
    const r = await postIndexes(s.url, conns, { duration: Number(process.env.SECS ?? 3) }, next);
    const u = perUnit(stop(), r.requests);
    s.samples.push(u.server!); s.rps.push(r.requestsPerSecond); s.p99.push(r.p99Ms);
  }
  for (const s of servers) console.log(s.label.padEnd(12), 'server µs/POST median', median(s.samples), 'min', Math.min(...s.samples), JSON.stringify(s.samples), 'rps', JSON.stringify(s.rps), 'p99', JSON.stringify(s.p99));
  console.log('load', machineLoad());
} finally { for (const s of servers) s.child.kill(); await bench.close(); await rm(dataDir, { recursive: true, force: true }); }
