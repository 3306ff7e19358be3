import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { QUEUE_NAME } from '@fibstack/contract/jobs';
import { freePort } from '@fibstack/devstack/ports';
import { REPO_ROOT } from '@fibstack/devstack/stack';
import { within } from '@fibstack/devstack/testkit';
import { copyOfRepository, linkTree, processesIn } from '../tests/support/checkout.js';
import { machineLoad, ownCpuUs, postgresCpuUs, processCpuUs, type CpuCounters } from './cpu.js';
import { pipelineRun } from './pipeline.js';
import { median, round } from './stats.js';

/** The workspaces `npm start` builds, in its order (scripts/native/start.mjs). */
const WORKSPACES = ['contract', 'service-kit', 'devstack', 'server', 'worker', 'client'];

/** Every process of a running `npm start`, found by what each runs. */
interface UserRunPids {
  launcher: number;
  stack?: number;
  server?: number;
  worker?: number;
  redis?: number;
}

/** `npm start` as a user runs it, in a copy of the working tree, with what the benchmark needs to measure it. */
export interface UserRun {
  url: string;
  pool: pg.Pool;
  redis: Redis;
  queue: Queue;
  cpu: CpuCounters;
  pids: UserRunPids;
  /** Bytes the terminal received (stdout and stderr of the launcher) so far. */
  terminalBytes(): number;
  close(): Promise<void>;
}

function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((child) => {
      try {
        const stat = readFileSync(`/proc/${child}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false;
      }
    });
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The processes below the launcher: run-stack.mjs, and below it the server, the worker and redis-server. */
function findPids(launcher: number): UserRunPids {
  const stack = childrenOf(launcher).find((pid) => commandLine(pid).includes('run-stack.mjs'));
  const below = stack === undefined ? [] : childrenOf(stack);
  const running = (pattern: string) => below.find((pid) => commandLine(pid).includes(pattern));
  return {
    launcher,
    stack,
    server: running('server/dist/main.js'),
    worker: running('worker/dist/main.js'),
    redis: running('redis-server'),
  };
}

/**
 * A copy of the working tree with this tree's dependencies (hard links) and builds (copies), each
 * workspace's build stamp newer than its sources, so `npm start` finds nothing to install or build and
 * goes straight to starting the app, as it does for a user on every start after the first.
 */
function preparedCopy(): string {
  const copy = copyOfRepository('fibstack-bench-npm-start-');
  linkTree(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'));
  const stamps = join(copy, '.data', 'build-stamps');
  mkdirSync(stamps, { recursive: true });
  for (const workspace of WORKSPACES) {
    cpSync(join(REPO_ROOT, workspace, 'dist'), join(copy, workspace, 'dist'), { recursive: true });
    writeFileSync(join(stamps, workspace), new Date().toISOString());
  }
  return copy;
}

/**
 * Where the launcher's output goes: a pipe (as `npm start > file` or a CI log), or a pseudo-terminal (as
 * a terminal window: the launcher's writes to a TTY are synchronous), read by `script` and passed on here.
 */
export type Terminal = 'pipe' | 'pty';

/** The launcher running in a process group of its own, as a terminal's foreground job, its output read as a terminal reads it. */
interface Launcher {
  /** start.mjs itself, or `script` holding the pseudo-terminal it runs in. */
  child: ChildProcess;
  bytes(): number;
  /** The end of its output, for errors. */
  tail(): string;
  up: Promise<void>;
  exited: Promise<void>;
}

function launchStart(copy: string, env: Record<string, string>, terminal: Terminal): Launcher {
  const start = [process.execPath, join(copy, 'scripts/native/start.mjs')];
  const [command, ...args] =
    terminal === 'pipe' ? start : ['script', '--quiet', '--flush', '--return', '--command', `exec ${start.join(' ')}`, '/dev/null'];
  const child = spawn(command!, args, { cwd: copy, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let bytes = 0;
  let tail = '';
  let markUp: () => void = () => undefined;
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const up = new Promise<void>((resolve, reject) => {
    markUp = resolve;
    void exited.then(() => reject(new Error(`npm start exited before the app was up:\n${tail}`)));
  });
  const read = (chunk: Buffer) => {
    bytes += chunk.length;
    // Only the end is kept (for errors): holding all of it would cost the measuring process more than a terminal.
    tail = (tail + chunk.toString()).slice(-4_000);
    if (tail.includes('fibstack is up')) markUp();
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  return { child, bytes: () => bytes, tail: () => tail, up, exited };
}

/** The process running start.mjs: the child itself, or the child of `script`. */
function launcherPid(run: Launcher): number | undefined {
  const isLauncher = (pid: number) => commandLine(pid).startsWith(`${process.execPath} `) && commandLine(pid).includes('start.mjs');
  const pid = run.child.pid!;
  return isLauncher(pid) ? pid : childrenOf(pid).find(isLauncher);
}

/**
 * Ctrl-C (or a kill) to the launcher's whole process group, as a terminal sends it (under `script` the
 * launcher leads a session and a group of its own); nothing left is fine.
 */
function signalGroup(run: Launcher, signal: NodeJS.Signals): void {
  try {
    process.kill(-(launcherPid(run) ?? run.child.pid!), signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Starts `npm start` (scripts/native/start.mjs, exactly as `npm start` runs it) in a prepared copy, its
 * output read as a terminal would read it, and waits until it says the app is up. `env` is what the
 * user would have in the environment (nothing, by default).
 */
export async function startUserRun(env: Record<string, string> = {}, terminal: Terminal = 'pipe'): Promise<UserRun> {
  const copy = preparedCopy();
  let launched: Launcher | undefined;
  const stop = async (run: Launcher) => {
    signalGroup(run, 'SIGINT');
    if (
      (await within(
        run.exited.then(() => true),
        60_000,
      )) === undefined
    )
      signalGroup(run, 'SIGKILL');
    // Whatever a failed start or stop left running in the copy (Postgres runs as its own user, in a
    // group of its own): nothing may outlive the benchmark.
    for (const line of processesIn(copy)) process.kill(Number(line.split(' ')[0]), 'SIGKILL');
  };
  try {
    const port = await freePort();
    launched = launchStart(copy, { PORT: String(port), ...env }, terminal);
    if (
      (await within(
        launched.up.then(() => true),
        120_000,
      )) === undefined
    )
      throw new Error(`npm start: the app was not up within 120 s:\n${launched.tail()}`);
    const pids = findPids(launcherPid(launched)!);

    if ([pids.stack, pids.server, pids.worker, pids.redis].includes(undefined))
      throw new Error(`npm start: not every process was found (${JSON.stringify(pids)})`);
    const databaseUrl = readFileSync(join(copy, '.data', 'database-url'), 'utf8').trim();
    // redis-server shows its address as its title (`redis-server 127.0.0.1:PORT`).
    const redisPort = /:(\d+)/.exec(commandLine(pids.redis!))![1];
    const redisPassword = readFileSync(join(copy, '.data', 'redis', 'password'), 'utf8');
    const pool = new pg.Pool({ connectionString: databaseUrl });
    const redis = new Redis({ host: '127.0.0.1', port: Number(redisPort), password: redisPassword, maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAME, { connection: redis });
    const run = launched;
    return {
      url: `http://127.0.0.1:${port}`,
      pool,
      redis,
      queue,
      pids,
      cpu: {
        server: () => processCpuUs(pids.server),
        worker: () => processCpuUs(pids.worker),
        postgres: () => postgresCpuUs(join(copy, '.data', 'postgres')),
        redis: () => processCpuUs(pids.redis),
        // start.mjs and run-stack.mjs: the launcher relays every line the services print to the terminal.
        launcher: () => processCpuUs(pids.launcher) + processCpuUs(pids.stack),
        ...(terminal === 'pty' && { terminal: () => processCpuUs(run.child.pid) }),
        'load generator': ownCpuUs,
      },
      terminalBytes: () => run.bytes(),
      async close() {
        await within(
          queue.close().catch(() => undefined),
          5_000,
        );
        redis.disconnect();
        await within(pool.end(), 5_000);
        await stop(run);
        await rm(copy, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (launched) await stop(launched);
    if (existsSync(copy)) await rm(copy, { recursive: true, force: true });
    throw error;
  }
}

export interface NpmStartOptions {
  submissions: number;
  /** Runs after the first (cold) one, each from empty tables, the same processes going on. */
  warmRuns: number;
}

/** The pipeline phase's figures this one is compared with: the bench's own stack, warmed up and restarted. */
interface BenchPipeline {
  medianJobsPerSecond?: number;
  runs?: Array<{ cpuUsPerJob: Record<string, number> }>;
}

/**
 * `npm start` measured by the same pipeline as the bench's own stack (`pipelineRun`): the first run
 * right after it is up (cold: what a user who tries it meets first), then `warmRuns` more from empty
 * tables, the processes going on. Its output goes to a pseudo-terminal, as in a terminal window (a pipe
 * where `script` is missing). Compared with the pipeline phase: CPU per job (which holds whatever else
 * the machine does) and jobs/s.
 */
export async function npmStartPipeline(options: NpmStartOptions, bench?: BenchPipeline) {
  const terminal: Terminal = hasScript() ? 'pty' : 'pipe';
  const user = await startUserRun({}, terminal);
  try {
    const runs = [];
    for (let run = 0; run <= options.warmRuns; run++) {
      if (run > 0) await user.pool.query('TRUNCATE submitted_indexes, results RESTART IDENTITY');
      const target = { url: user.url, pool: user.pool, cpu: user.cpu, workerPid: () => user.pids.worker };
      runs.push({ run: run === 0 ? 'cold' : `warm ${run}`, ...(await pipelineRun(target, { ...options, storeTimeoutMs: 60_000 })) });
    }
    const warm = runs.slice(1);
    const warmCpu = median(warm.map((run) => run.cpuUsPerJob.total!));
    const benchCpu = bench?.runs?.length ? median(bench.runs.map((run) => run.cpuUsPerJob.total!)) : undefined;
    const warmJobs = median(warm.map((run) => run.jobsPerSecond));
    return {
      terminal,
      runs,
      terminalBytesPerJob: Math.round(user.terminalBytes() / (options.submissions * runs.length)),
      coldCpuUsPerJob: runs[0]!.cpuUsPerJob.total,
      warmCpuUsPerJob: warmCpu,
      // What the first 10,000 cost more than the next: the JIT compiling each process's hot paths.
      coldOverWarmCpu: round(runs[0]!.cpuUsPerJob.total! / warmCpu),
      launcherCpuUsPerJob: median(warm.map((run) => run.cpuUsPerJob.launcher!)),
      warmJobsPerSecond: warmJobs,
      ...(benchCpu !== undefined && {
        benchCpuUsPerJob: benchCpu,
        warmCpuVsBench: round(warmCpu / benchCpu),
        warmJobsPerSecondVsBench: round(warmJobs / bench!.medianJobsPerSecond!),
      }),
      load: machineLoad(),
    };
  } finally {
    await user.close();
  }
}

function hasScript(): boolean {
  return spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
}
