/**
 * `npm run bench`: measures the whole app on this machine, loopback only, and writes every figure to
 * bench/results/latest.json (see bench/README.md). It starts the native stack (real Postgres, Redis,
 * server, worker) in a temporary directory, which it removes at the end or on Ctrl-C.
 *   --smoke          every phase briefly (CI runs it to keep the benchmark working; under a minute); to smoke.json
 *   --docker         also the developer loop with Docker: cold build, one-line rebuild, dev-compose reloads, image sizes
 *   --only=a,b       only these phases (names as printed); to only.json
 * A full run (neither --smoke nor --only) then renders docs/capacity.md's tables from its results (bench/capacity/).
 * Every wait is bounded: a phase that runs out of time is reported as a result line, and the run goes on
 * to the end. It reports; it never fails on timing.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import exitHook from 'async-exit-hook';
import { startBenchStack, type BenchStack } from './bench-stack.js';
import { perRequestBudget } from './budget.js';
import { compute } from './compute.js';
import { machineLoad } from './cpu.js';
import { developerLoop } from './dev-loop.js';
import { edgeStreams } from './edge-streams.js';
import { footprint } from './footprint.js';
import { indexesFrom } from './http-load.js';
import { visibleLatency } from './latency.js';
import { listing } from './listing.js';
import { npmStartPipeline } from './npm-start.js';
import { pipeline } from './pipeline.js';
import { reconcilePasses } from './reconcile.js';
import { replicaScaling } from './replicas.js';
import { streamCosts } from './stream-costs.js';
import { printReport, resultsFile, writeResults } from './report.js';
import { renderCapacityPage } from './capacity/render.js';
import { sleep, within } from '@fibstack/devstack/testkit';
import { writePath } from './write-path.js';

const argv = process.argv.slice(2);
const smoke = argv.includes('--smoke');
const docker = argv.includes('--docker');
const only = argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',');
const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');

const settings = smoke
  ? {
      writePath: { seconds: 1, rounds: 1 },
      budget: { rounds: 1, seconds: 0.5, warmSeconds: 0.3, rungs: 'ends' as const },
      pipeline: { submissions: 500, runs: 1, warmUpPosts: 500 },
      latency: { samples: 20, warmUpPosts: 200 },
      listing: { sizes: [2_000, 10_000] as [number, number], seconds: 0.5 },
      reconcile: { sizes: [10_000, 50_000], passes: 2 },
      compute: { sizes: [10_000, 100_000, 200_000], parallel: 2 },
      edgeStreams: { visitors: 10 },
      streamCosts: { counts: [10], eventsPerSecond: 20, seconds: 1, delayLimitMs: 1_000, maxStreams: 10 },
      npmStart: { submissions: 500, warmRuns: 1 },
      replicas: { writeSeconds: 1, rounds: 1, submissions: 500, warmUpPosts: 500 },
    }
  : {
      writePath: { seconds: 4, rounds: 3 },
      budget: { rounds: 5, seconds: 1.5, warmSeconds: 0.5, rungs: 'all' as const },
      pipeline: { submissions: 10_000, runs: 3, warmUpPosts: 5_000 },
      latency: { samples: 200, warmUpPosts: 2_000 },
      listing: { sizes: [10_000, 1_000_000] as [number, number], seconds: 5 },
      reconcile: { sizes: [10_000, 5_000_000], passes: 20 },
      compute: { sizes: [10_000, 100_000, 500_000, 1_000_000, 2_000_000], parallel: 6 },
      edgeStreams: { visitors: 100 },
      // 10, 100 and 1,000 streams, then doubling until an event's delay p99 passes 1 s (SSE_MAX_STREAMS comes from it).
      streamCosts: { counts: [10, 100, 1_000], eventsPerSecond: 50, seconds: 5, delayLimitMs: 1_000, maxStreams: 8_000 },
      // A cold run as a user meets it, then two from empty tables: the same count as the pipeline phase's runs.
      npmStart: { submissions: 10_000, warmRuns: 2 },
      // 1 and 2 servers and workers behind the edge, in turn within each round.
      replicas: { writeSeconds: 4, rounds: 2, submissions: 10_000, warmUpPosts: 3_000 },
    };

/**
 * The services' settings for the benchmark. MAX_INDEX above every index the write path sends, so each of
 * its POSTs queues a new job; the few values the benchmark stores are small, but the server checks that
 * all of them could be stored.
 */
const BENCH_ENV = {
  MAX_INDEX: '10000000',
  STORAGE_BUDGET_GIB: '13000',
  // edge-streams fills the edge with event streams from a few addresses: the API's own caps must not bite first.
  SSE_MAX_STREAMS_PER_CLIENT: '10000',
  SSE_MAX_STREAMS: '10000',
};

/** Event streams open during `pipeline-watched`: what a handful of browsers watching the results costs. */
const PIPELINE_WATCHERS = 10;

const results: Record<string, unknown> = {
  machine: {
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    node: process.version,
    command,
    loadAtStart: machineLoad(),
    startedAt: new Date().toISOString(),
  },
};
const wanted = (phase: string) => !only || only.includes(phase);

/**
 * Runs one phase within its time bound. A phase that throws or runs out of time becomes a result line
 * (`failed` / `timedOut`); after a timeout the later phases that use the stack are skipped, since the
 * late one may still be using it.
 */
let stackSuspect = false;
async function phase(name: string, boundMs: number, run: () => Promise<object> | object, usesStack = true): Promise<void> {
  if (!wanted(name)) return;
  if (usesStack && stackSuspect) {
    results[name] = { skipped: 'an earlier phase timed out while using the stack' };
    return;
  }
  const loadAtStart = machineLoad();
  const started = performance.now();
  console.log(`\n… ${name} (load ${loadAtStart})`);
  const outcome = await within(
    Promise.resolve()
      .then(run)
      .catch((error: unknown) => ({ failed: error instanceof Error ? error.message : String(error) })),
    boundMs,
  );
  if (outcome === undefined) stackSuspect ||= usesStack;
  results[name] = {
    ...(outcome ?? { timedOut: `did not finish within ${boundMs / 1000} s` }),
    seconds: Math.round((performance.now() - started) / 100) / 10,
    loadAtStart,
  };
}

const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-bench-'));
// Postgres runs as its own OS user, which must reach the stacks' data directories below this one.
await chmod(dataDir, 0o755);
let bench: BenchStack | undefined;
let cleaned: Promise<void> | undefined;
const cleanUp = () =>
  (cleaned ??= (async () => {
    await bench?.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
  })());
// Ctrl-C or SIGTERM: stop every process started here and remove the temporary directory before exiting.
exitHook((done) => void cleanUp().finally(done));
exitHook.forceExitTimeout(30_000);
console.log(`fibstack bench (${command}); temporary data in ${dataDir}`);

try {
  const nextIndex = indexesFrom(1_000_000);
  const needsStack = [
    'footprint',
    'write-path',
    'budget',
    'pipeline',
    'pipeline-watched',
    'latency',
    'listing',
    'reconcile',
    'edge-streams',
    'stream-costs',
  ].some(wanted);
  if (needsStack) {
    bench = await startBenchStack(dataDir, BENCH_ENV);
    const stack = bench;
    await sleep(1_000);
    await phase('footprint', 10_000, () => footprint(stack));
    await stack.stack.stopService('worker');
    await phase('write-path', 300_000, () => writePath(stack, { ...settings.writePath, logDir: join(dataDir, 'logs'), nextIndex }));
    await phase('budget', 300_000, () =>
      perRequestBudget(stack, { ...settings.budget, connections: 50, logDir: join(dataDir, 'logs'), nextIndex }),
    );
    await phase('pipeline', 300_000, () => pipeline(stack, { ...settings.pipeline, storeTimeoutMs: 60_000 }));
    await phase('pipeline-watched', 300_000, () =>
      pipeline(stack, { ...settings.pipeline, storeTimeoutMs: 60_000, streams: PIPELINE_WATCHERS }),
    );
    await phase('latency', 120_000, () => visibleLatency(stack, { ...settings.latency, perSampleTimeoutMs: 5_000 }));
    await phase('listing', 300_000, () => listing(stack, settings.listing));
    await phase('reconcile', 600_000, () => reconcilePasses(stack, settings.reconcile));
    await phase('edge-streams', 180_000, () => edgeStreams(stack, settings.edgeStreams));
    await phase('stream-costs', 600_000, () => streamCosts(stack, settings.streamCosts));
    await bench.close();
    bench = undefined;
  }
  // A stack of two servers and two workers behind the edge, after the single one is gone.
  await phase(
    'replicas',
    600_000,
    async () => {
      bench = await startBenchStack(join(dataDir, 'replicas'), BENCH_ENV, { replicas: 2, serverEnv: { TRUST_PROXY: '1' } });
      try {
        return await replicaScaling(bench, { ...settings.replicas, nextIndex: indexesFrom(2_000_000) });
      } finally {
        await bench.close();
        bench = undefined;
      }
    },
    false,
  );
  // After the bench's own stack is gone: `npm start` as a user runs it, by the pipeline phase's measure.
  await phase(
    'npm-start',
    900_000,
    () => npmStartPipeline(settings.npmStart, results.pipeline as Parameters<typeof npmStartPipeline>[1]),
    false,
  );
  await phase('compute', 120_000, () => compute(settings.compute), false);
  if (docker) await phase('dev-loop', 1_800_000, () => developerLoop({ smoke, workDir: dataDir }), false);
} finally {
  await cleanUp();
}

const file = resultsFile(smoke ? 'smoke' : only ? 'only' : 'full');
printReport(results, file);
writeResults(results, file);
// A full run's unit costs are the capacity model's inputs: docs/capacity.md follows them (the run never fails on it).
if (!smoke && !only) {
  try {
    console.log(renderCapacityPage());
  } catch (error) {
    console.log(`capacity model not rendered: ${error instanceof Error ? error.message : String(error)}`);
  }
}
