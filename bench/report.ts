import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '@fibstack/devstack/stack';

type Results = Record<string, unknown>;
type Row = Record<string, unknown>;

/**
 * Where a run's figures go: a full run's to latest.json (committed: the capacity model's source,
 * docs/capacity.md); a smoke run's (which only keeps the benchmark working) and a partial one's (--only)
 * beside it, so neither replaces a full run's figures.
 */
export const resultsFile = (run: 'full' | 'smoke' | 'only') => join(REPO_ROOT, `bench/results/${run === 'full' ? 'latest' : run}.json`);

/** Flattens one level of nested objects into `key.sub` columns, so console.table can show them. */
function flat(row: Row): Row {
  const out: Row = {};
  for (const [key, value] of Object.entries(row)) {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [sub, inner] of Object.entries(value)) out[`${key}.${sub}`] = inner;
    } else out[key] = Array.isArray(value) ? value.join(' / ') : value;
  }
  return out;
}

function section(title: string, value: unknown, tables: Record<string, (value: Row) => Row[] | undefined> = {}) {
  console.log(`\n== ${title}`);
  if (!value || typeof value !== 'object') return void console.log(value ?? 'not run');
  const { ...rest } = value as Row;
  for (const [key, rows] of Object.entries(tables)) {
    const list = rows(rest);
    if (list?.length) console.table(list.map(flat));
    delete rest[key];
  }
  console.log(rest);
}

/** Prints every phase: tables where there are rows, the rest as it is stored, each with the load it ran under. */
export function printReport(results: Results, file: string): void {
  section('machine', results.machine);
  section('footprint (idle)', results.footprint);
  section('1. write path: POST /api/values (worker stopped), fibstack vs bare Express, CPU µs per POST by process', results['write-path'], {
    runs: (value) => value.runs as Row[],
  });
  section('2. per-request CPU budget at 50 connections: server µs per POST, each step added to the one before', results.budget, {
    rows: (value) => value.rows as Row[],
  });
  section('3. pipeline: submissions until every value is stored, CPU µs per job by process', results.pipeline, {
    runs: (value) => value.runs as Row[],
  });
  section('3b. pipeline with event streams open and read', results['pipeline-watched'], {
    runs: (value) => value.runs as Row[],
  });
  section('4. submit → visible (idle system)', results.latency);
  section('5. listing GET /api/values?limit=50', results.listing, { rows: (value) => value.rows as Row[] });
  section('5b. one reconcile pass with 10 k and 5 M submissions stored (100 unresolved)', results.reconcile, {
    rows: (value) => value.rows as Row[],
  });
  section('6. compute', results.compute);
  section('6b. the edge full of event streams (nginx as shipped, one worker)', results['edge-streams']);
  section('6c. the cost of open event streams, one API process (SSE_MAX_STREAMS comes from it)', results['stream-costs'], {
    rows: (value) => value.rows as Row[],
  });
  section("6d. `npm start` by the pipeline phase's measure: a cold run, then warm ones (vs 3.)", results['npm-start'], {
    runs: (value) => value.runs as Row[],
  });
  section(
    '8. one vs two servers and workers behind the edge: POSTs (workers stopped) and the pipeline, CPU µs by process',
    results.replicas,
    {
      table: (value) => value.table as Row[],
      writePath: () => undefined,
      pipelines: () => undefined,
    },
  );
  if (results['dev-loop']) section('7. developer loop (Docker)', results['dev-loop']);
  console.log(`\nevery figure: ${file}`);
}

export function writeResults(results: Results, file: string): void {
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
