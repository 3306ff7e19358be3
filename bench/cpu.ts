import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * CPU time of processes, read from /proc: it counts what a process did, whatever else the machine was
 * doing, so it stays comparable when other work shares the cores (wall-clock throughput does not).
 */

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux that Node supports. */
const TICKS_PER_SECOND = 100;
const TICK_US = 1_000_000 / TICKS_PER_SECOND;

interface ProcStat {
  ppid: number;
  /** user + system time of the process, all its threads included, µs. */
  ownUs: number;
  /** user + system time of its children that have exited and been waited for, µs. */
  reapedChildrenUs: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // exited
  }
  // The command name (field 2) may hold spaces and parentheses: the fields that follow start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = (field: number) => Number(fields[field - 3]);
  return {
    ppid: ticks(4),
    ownUs: (ticks(14) + ticks(15)) * TICK_US,
    reapedChildrenUs: (ticks(16) + ticks(17)) * TICK_US,
  };
}

/** CPU time a process has used so far, µs (NaN once it has exited). */
export function processCpuUs(pid: number | undefined): number {
  return pid === undefined ? NaN : (readStat(pid)?.ownUs ?? NaN);
}

/**
 * CPU time of a whole Postgres server so far, µs: the postmaster, its live backends and background
 * workers, and the backends that have already exited (which the postmaster has reaped).
 */
export function postgresCpuUs(dataDir: string): number {
  const postmaster = postmasterPid(dataDir);
  const root = postmaster === undefined ? undefined : readStat(postmaster);
  if (!root) return NaN;
  let total = root.ownUs + root.reapedChildrenUs;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat && stat.ppid === postmaster) total += stat.ownUs;
  }
  return total;
}

/** The process id of the Postgres server whose data directory is `dataDir`, while it runs. */
export function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

/** An nginx master and its worker processes (its children), to add up their CPU or memory. */
export function nginxPids(masterPid: number): number[] {
  const workers = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry) && readStat(Number(entry))?.ppid === masterPid);
  return [masterPid, ...workers.map(Number)];
}

/** CPU time of this Node process (the load generator runs here), µs. */
export function ownCpuUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

/** Named CPU counters, read together at the start and at the end of a measurement. */
export type CpuCounters = Record<string, () => number>;

export interface CpuSample {
  /** CPU µs each counter used between start and stop. */
  usedUs: Record<string, number>;
  wallMs: number;
}

/** Starts measuring; the returned function stops and reports what each counter used meanwhile. */
export function startCpuMeasure(counters: CpuCounters): () => CpuSample {
  const read = () => Object.fromEntries(Object.entries(counters).map(([name, counter]) => [name, counter()]));
  const before = read();
  const startedAt = performance.now();
  return () => {
    const after = read();
    return {
      usedUs: Object.fromEntries(Object.keys(counters).map((name) => [name, after[name]! - before[name]!])),
      wallMs: performance.now() - startedAt,
    };
  };
}

/** CPU µs per unit of work (request, job) for each counter, and their sum, rounded. */
export function perUnit(sample: CpuSample, units: number): Record<string, number> {
  const entries = Object.entries(sample.usedUs).map(([name, us]) => [name, Math.round(us / units)] as const);
  return { ...Object.fromEntries(entries), total: entries.reduce((sum, [, us]) => sum + us, 0) };
}

/** Resident memory of a process, MB (NaN once it has exited). */
export function rssMb(pid: number | undefined): number {
  try {
    const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    return Math.round(kb / 102.4) / 10;
  } catch {
    return NaN;
  }
}

/** The load averages over 1, 5 and 15 minutes (/proc/loadavg), as `uptime` prints them: shown beside every figure. */
export function machineLoad(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
