import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor, RESULTS_CHANNEL } from '@fibstack/contract/jobs';
import { submitIndex } from '@fibstack/devstack/testkit';
import { startBenchStack, type BenchStack } from './bench-stack.js';
import { waitUntil } from './wait.js';

/** Big enough that computing it takes far longer than emptying two tables (~1 s on 2 cores). */
const LATE_INDEX = 8_000_000;

let dataDir: string;
let bench: BenchStack;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'fibstack-bench-test-'));
  // The budget the server checks MAX_INDEX against: one that could hold every value up to LATE_INDEX.
  bench = await startBenchStack(dataDir, { MAX_INDEX: String(LATE_INDEX), STORAGE_BUDGET_GIB: '8200' });
});

afterAll(async () => {
  await bench?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const indexesIn = async (table: 'results' | 'submitted_indexes') =>
  (await bench.pool.query<{ index: number }>(`SELECT index FROM ${table} ORDER BY index`)).rows.map((row) => row.index);

describe("the benchmark's reset between phases", () => {
  it('lets nothing from an earlier phase land after it: a job in the worker when it starts finishes before the data goes', async () => {
    const announced: number[] = [];
    const subscriber = new Redis(bench.stack.redisUrl);
    await subscriber.subscribe(RESULTS_CHANNEL);
    subscriber.on('message', (_channel, message: string) => announced.push((JSON.parse(message) as { index: number }).index));
    try {
      expect(await submitIndex(bench.stack.url, LATE_INDEX)).toBe(202);
      const active = await waitUntil(async () => (await bench.queue.getJobState(jobIdFor(LATE_INDEX))) === 'active', {
        timeoutMs: 30_000,
        what: 'the late job to be in the worker',
      });
      expect(active.ok).toBe(true);

      const report = await bench.reset();

      // The job was finished, stored and announced by the old worker before anything was emptied …
      expect(announced).toContain(LATE_INDEX);
      expect(report.killed).toEqual([]);
      expect(report.workerReady.ok).toBe(true);
      // … so after the reset nothing of it is left, in Postgres or in Redis.
      expect(await indexesIn('results')).toEqual([]);
      expect(await indexesIn('submitted_indexes')).toEqual([]);
      expect(await bench.redis.exists(`bull:fibonacci:${jobIdFor(LATE_INDEX)}`)).toBe(0);

      // The next phase starts clean: its first index is new (202, not an already stored 200), and once
      // its value is stored it is the only one.
      expect(await submitIndex(bench.stack.url, 7)).toBe(202);
      const stored = await waitUntil(async () => (await indexesIn('results')).includes(7), { timeoutMs: 30_000, what: 'index 7' });
      expect(stored.ok).toBe(true);
      expect(await indexesIn('results')).toEqual([7]);
    } finally {
      subscriber.disconnect();
    }
  });
});

describe('Ctrl-C during a run', () => {
  it('stops every process the benchmark started and removes its temporary directory', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'fibstack-bench-sigint-'));
    await chmod(tmp, 0o755); // Postgres runs as its own user when we are root
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    // Every process the run starts inherits this marker, whatever its command line says.
    const marker = `FIBSTACK_BENCH_RUN=${randomUUID()}`;
    const run = spawn(process.execPath, ['--import', 'tsx', main, '--smoke', '--only=write-path'], {
      env: { ...process.env, TMPDIR: tmp, FIBSTACK_BENCH_RUN: marker.split('=')[1] },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => run.once('exit', (code) => resolve(code)));
    try {
      const started = await waitUntil(() => output.includes('… write-path') || run.exitCode !== null, {
        timeoutMs: 90_000,
        what: 'the write path to start',
      });
      expect(run.exitCode, output).toBeNull();
      expect(started.ok, output).toBe(true);
      const dataDir = /temporary data in (\S+)/.exec(output)![1]!;
      const ceiling = await waitUntil(() => processesCarrying(marker).some((command) => command.includes('bare-express')), {
        timeoutMs: 60_000,
        what: 'the bare-Express ceiling to start',
      });
      expect(ceiling.ok, output).toBe(true);
      expect(existsSync(dataDir)).toBe(true);

      run.kill('SIGINT');
      expect(await exited).not.toBe(0);
      expect(existsSync(dataDir)).toBe(false);
      expect(processesMentioning(dataDir)).toEqual([]);
      // The bare-Express ceiling is a child of the run too (it ran the write path when Ctrl-C came).
      await waitUntil(() => processesCarrying(marker).length === 0, { timeoutMs: 5_000, what: "the run's processes to exit" });
      expect(processesCarrying(marker)).toEqual([]);
    } finally {
      if (run.exitCode === null) run.kill('SIGKILL');
      await rm(tmp, { recursive: true, force: true });
    }
  });
});

/** Command lines of running processes whose environment holds `variable` (NAME=value). */
function processesCarrying(variable: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(variable)) {
        found.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
      }
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Command lines of running processes that name `path` (Postgres and Redis are started with their data directory). */
function processesMentioning(path: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (commandLine.includes(path)) found.push(commandLine);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
