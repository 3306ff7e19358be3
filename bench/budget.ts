import { join } from 'node:path';
import { SERVER_NODE_FLAGS } from '@fibstack/devstack/stack';
import type { BenchStack } from './bench-stack.js';
import { BUDGET_LAYERS } from './budget-layers.js';
import { machineLoad, ownCpuUs, perUnit, processCpuUs, startCpuMeasure } from './cpu.js';
import { postIndexes } from './http-load.js';
import { median, round } from './stats.js';
import { WRITE_PATH_TARGETS } from './write-path.js';
import { startChildServer, type ChildServer } from './servers.js';

export interface BudgetOptions {
  rounds: number;
  seconds: number;
  /** Load before each measured run (JIT, pools, prepared statements), longer in the first round. */
  warmSeconds: number;
  connections: number;
  /** Every rung, or only the ceiling, the base, the last step and the whole app (to keep --smoke short). */
  rungs: 'all' | 'ends';
  logDir: string;
  nextIndex: () => number;
}

export interface BudgetRow {
  step: string;
  /** Server CPU µs per POST with every step up to this one (median over the rounds). */
  serverUsPerPost: number;
  /** What this step adds to the one before. */
  addsUs: number | null;
  postgresUsPerPost: number;
  redisUsPerPost: number;
  requestsPerSecond: number;
  /** Every round's server µs per POST, to show the spread. */
  rounds: number[];
}

const BASE_STEP = 'Express routing + JSON response';
const FULL_APP = 'the whole app (createApp: + health, routers, error handling)';

/**
 * The per-request CPU budget: the CPU time each step of a POST costs, measured as a ladder of servers
 * built from the app's own modules, each doing one step more than the one before, with bare Express
 * (express.json + res.json) and the real app (createApp) measured in the same rounds. Rungs are
 * measured in turn within each round, so a burst of load elsewhere on the machine spreads over all of them.
 */
export async function perRequestBudget(bench: BenchStack, options: BudgetOptions) {
  const env = {
    DATABASE_URL: bench.stack.databaseUrl,
    REDIS_URL: bench.stack.redisUrl,
    LOG_LEVEL: 'info',
    // As main.ts starts the stack: every POST a new index, and a budget that could hold all their values.
    MAX_INDEX: '10000000',
    STORAGE_BUDGET_GIB: '13000',
  };
  const steps = BUDGET_LAYERS.map((step, i) => ({ step: `+ ${step}`, script: './budget-server.ts', layers: String(i + 1) }));
  const rungs: Array<{ step: string; server?: ChildServer; script: string; layers?: string }> = [
    { step: 'bare Express (the ceiling)', script: './bare-express.ts' },
    { step: BASE_STEP, script: './budget-server.ts', layers: '0' },
    ...(options.rungs === 'all' ? steps : [{ ...steps.at(-1)!, step: `+ every step (${BUDGET_LAYERS.join(', ')})` }]),
    { step: FULL_APP, script: './budget-server.ts', layers: 'all' },
  ];
  const samples = new Map<string, Array<Record<string, number> & { rps: number }>>();
  try {
    await Promise.all(
      rungs.map(async (rung) => {
        const logFile = join(options.logDir, `budget-${rung.layers ?? 'bare'}.log`);
        // The rungs run with the server's own heap settings; bare Express, the ceiling, with Node's defaults.
        rung.server = rung.layers
          ? await startChildServer(rung.script, { ...env, LAYERS: rung.layers }, logFile, SERVER_NODE_FLAGS)
          : await startChildServer(rung.script, {}, logFile);
      }),
    );
    for (let round = 0; round < options.rounds; round++) {
      for (const rung of rungs) {
        const server = rung.server!;
        const warm = round === 0 ? 2 * options.warmSeconds : options.warmSeconds;
        await postIndexes(server.url, options.connections, { duration: warm }, options.nextIndex);
        const stop = startCpuMeasure({
          server: () => processCpuUs(server.pid),
          postgres: bench.cpu.postgres!,
          redis: bench.cpu.redis!,
          'load generator': ownCpuUs,
        });
        const load = await postIndexes(server.url, options.connections, { duration: options.seconds }, options.nextIndex);
        const used = perUnit(stop(), Math.max(load.requests, 1));
        samples.set(rung.step, [...(samples.get(rung.step) ?? []), { ...used, rps: load.requestsPerSecond }]);
      }
    }
  } finally {
    await Promise.all(rungs.map(async (rung) => rung.server?.stop()));
  }
  const rows: BudgetRow[] = [];
  for (const rung of rungs) {
    const runs = samples.get(rung.step) ?? [];
    const serverUs = median(runs.map((run) => run.server!));
    const previous = rows.at(-1);
    rows.push({
      step: rung.step,
      serverUsPerPost: serverUs,
      addsUs: previous && rung.layers !== '0' ? serverUs - previous.serverUsPerPost : null,
      postgresUsPerPost: median(runs.map((run) => run.postgres!)),
      redisUsPerPost: median(runs.map((run) => run.redis!)),
      requestsPerSecond: median(runs.map((run) => run.rps)),
      rounds: runs.map((run) => run.server!),
    });
  }
  return {
    connections: options.connections,
    secondsPerRun: options.seconds,
    rounds: options.rounds,
    load: machineLoad(),
    rows,
    ratioTarget: ratioTarget(rows),
  };
}

/** Steps a user would lose something without: what each guarantees. */
const GUARANTEES: Record<string, string> = {
  '+ request id': 'a request id to quote, on the answer and in the logs',
  '+ request log': 'a log line per request',
  '+ security headers': 'helmet security headers and the CSP',
  '+ metrics': 'Prometheus request metrics',
  '+ submit (batcher + Postgres)': 'committed in Postgres before the answer',
  '+ enqueue (batcher + BullMQ)': 'queued in Redis before the answer ("202 means queued")',
};

/**
 * What a throughput ratio of 0.6 to bare Express asks of the server's CPU per POST (when the server is
 * bound by its core, the ratio is bare µs ÷ ours), how far the whole app is from it, and what each
 * guarantee costs: the steps whose removal alone would close the gap.
 */
function ratioTarget(rows: BudgetRow[]) {
  const bare = rows[0]!.serverUsPerPost;
  const whole = rows.at(-1)!.serverUsPerPost;
  const allowed = Math.round(bare / WRITE_PATH_TARGETS.ratioAt50);
  const over = Math.round(whole - allowed);
  const costs = rows.filter((row) => row.step in GUARANTEES && row.addsUs !== null);
  return {
    cpuRatio: round(bare / whole),
    serverUsAllowedFor06: allowed,
    overByUs: over,
    guaranteeCostsUs: Object.fromEntries(costs.map((row) => [GUARANTEES[row.step]!, row.addsUs])),
    eachAloneClosesTheGap: over <= 0 ? 'no gap' : costs.filter((row) => row.addsUs! >= over).map((row) => GUARANTEES[row.step]!),
  };
}
