// Allocation sampling (incl. objects collected by GC) of the server under POST load, via the inspector.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { freePort } from '@fibstack/devstack/ports';
import { startBenchStack } from './bench-stack.js';
import { indexesFrom, postIndexes } from './http-load.js';
const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-alloc-'));
const bench = await startBenchStack(dataDir, { MAX_INDEX: '10000000' });
await bench.stack.stopService('worker');
const port = await freePort(); const ip = await freePort();
const child = spawn(process.execPath, [`--inspect=127.0.0.1:${ip}`, '--max-old-space-size=128', ...(process.env.PRE ?? '').split(' ').filter(Boolean), process.env.MAIN ?? 'server/dist/main.js'], { env: { ...process.env, DATABASE_URL: bench.stack.databaseUrl, REDIS_URL: bench.stack.redisUrl, PORT: String(port), LOG_LEVEL: 'info', MAX_INDEX: '10000000' }, stdio: ['ignore', 'ignore', 'ignore'] });
const url = `http://127.0.0.1:${port}`;
for (;;) { try { if ((await fetch(url + (process.env.READY ?? '/readyz'), process.env.READY ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"index":1}' } : {})).status < 500) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
const next = indexesFrom(1_000_000);
const list = (await (await fetch(`http://127.0.0.1:${ip}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
await new Promise((r) => ws.once('open', r));
let id = 0; const pending = new Map<number, (v: any) => void>();
ws.on('message', (d) => { const m = JSON.parse(String(d)); if (m.id && pending.has(m.id)) { pending.get(m.id)!(m.result); pending.delete(m.id); } });
const call = (method: string, params: object = {}) => new Promise<any>((res) => { const i = ++id; pending.set(i, res); ws.send(JSON.stringify({ id: i, method, params })); });
try {
  await postIndexes(url, 50, { duration: 2 }, next);
  await call('HeapProfiler.enable');
  await call('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  const r = await postIndexes(url, 50, { duration: 4 }, next);
  const prof = await call('HeapProfiler.stopSampling');
  writeFileSync('/tmp/wt14-alloc.json', JSON.stringify(prof.profile));
  console.log('requests', r.requests, 'KB/request', ((JSON.stringify(prof.profile.samples.length) as any) * 0 + prof.profile.samples.reduce((s: number, x: any) => s + x.size, 0) / r.requests / 1024).toFixed(1));
} finally { ws.close(); child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); await bench.close(); await rm(dataDir, { recursive: true, force: true }); }
