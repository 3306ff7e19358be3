import {
  BACKLOG_SECONDS,
  BASE_TARGET_RATE,
  baseBounds,
  capacityAt,
  coresPerPod,
  HEADROOM,
  OVERSIZE,
  TARGET_RATES,
  unitCostsFrom,
  workerPodsByIndex,
  type Sizing,
} from './model.js';

/**
 * The generated parts of docs/capacity.md: each between `<!-- generated:NAME -->` and
 * `<!-- /generated:NAME -->`, rendered from a bench run's results; the prose around them is written by hand.
 */
const n = (value: number) => value.toLocaleString('en-US');
const table = (header: string[], rows: Array<Array<string | number>>) =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map((cell) => (typeof cell === 'number' ? n(cell) : cell)).join(' | ')} |`),
  ].join('\n');

interface ReplicaRow {
  replicas: number;
  postsPerSecond: number;
  cpuUsPerPost: number;
  serverCpuUsPerPost: number;
  edgeCpuUsPerPost: number;
  jobsPerSecond: number;
  cpuUsPerJob: number;
  serverCpuUsPerJob: number;
  workerCpuUsPerJob: number;
  edgeCpuUsPerJob: number;
  lost: number;
}

export function renderBlocks(results: Record<string, unknown>, sizing: Sizing): Record<string, string> {
  const costs = unitCostsFrom(results);
  const at = TARGET_RATES.map((rate) => capacityAt(costs, sizing, rate));
  const bounds = baseBounds(costs, sizing);
  const row = (label: string, pick: (one: (typeof at)[number]) => string | number) => [label, ...at.map(pick)];
  const replicas = (results.replicas as { table?: ReplicaRow[] } | undefined)?.table;
  return {
    source: [
      `From \`${costs.machine.command}\` started ${costs.machine.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${costs.machine.cores} cores`,
      `(${costs.machine.cpu}); load average at the start of the phases read: pipeline ${costs.load.pipeline}, write path`,
      `${costs.load.writePath}, stream costs ${costs.load.streamCosts}, compute ${costs.load.compute}.`,
    ].join('\n'),
    'unit-costs': table(
      ['unit cost', 'value', 'measured by (phase)'],
      [
        [
          'API (server) CPU per job, its POST and its result event included',
          `${n(costs.cpuUsPerJob.server)} µs`,
          '`pipeline`, median of runs',
        ],
        ['API CPU per POST alone (worker stopped, 50 connections)', `${n(costs.serverCpuUsPerPost)} µs`, '`write-path`'],
        ['worker CPU per job (indexes below 10,000)', `${n(costs.cpuUsPerJob.worker)} µs`, '`pipeline`'],
        ...Object.entries(costs.computeMsByIndex).map(([index, ms]) => [
          `worker: computing fib(${n(Number(index))})`,
          `${ms} ms`,
          '`compute`',
        ]),
        ['Postgres CPU per job', `${n(costs.cpuUsPerJob.postgres)} µs`, '`pipeline`'],
        ['Redis CPU per job', `${n(costs.cpuUsPerJob.redis)} µs`, '`pipeline`'],
        ['API CPU per event delivered to one stream (1,000 open)', `${costs.serverCpuUsPerEventDelivered} µs`, '`stream-costs`'],
        ['API memory per open stream', `${costs.rssMbPerStream} MB`, '`stream-costs`'],
        ['Postgres bytes per submission (submitted_indexes row, its indexes)', `${n(costs.postgres.bytesPerSubmission)} B`, '`pipeline`'],
        ['Postgres bytes per result (results row, its indexes; small values)', `${n(costs.postgres.bytesPerResult)} B`, '`pipeline`'],
        ['Postgres WAL per job', `${n(costs.postgres.walBytesPerJob)} B`, '`pipeline`'],
        ['Postgres commits per job (inserts are batched)', String(costs.postgres.commitsPerJob), '`pipeline`'],
        ['Postgres connections the server and the worker held', String(costs.postgres.connectionsHeld), '`pipeline`'],
        ['Redis commands per job (every client)', String(costs.redis.commandsPerJob), '`pipeline`'],
        ['Redis memory per queued job', `${n(costs.redis.bytesPerQueuedJob)} B`, '`write-path`'],
      ],
    ),
    requirements: table(
      ['', ...TARGET_RATES.map((rate) => `${n(rate)} submissions/s`)],
      [
        row('API: cores / pods', (one) => `${one.api.cores} / **${one.api.pods}**`),
        row('worker: cores / pods', (one) => `${one.worker.cores} / **${one.worker.pods}**`),
        row('Postgres: cores → instance class', (one) => `${one.postgres.cores} → **${one.postgres.instanceClass}**`),
        row('Postgres: connections (its max_connections)', (one) => `${n(one.postgres.connections)} (${n(one.postgres.maxConnections)})`),
        row(
          'Postgres: commits/s, WAL MiB/s → write IOPS',
          (one) => `${n(one.postgres.commitsPerSecond)}, ${one.postgres.walMibPerSecond} → **${n(one.postgres.writeIops)}**`,
        ),
        row(
          'Postgres: storage ceiling (reached after, at the earliest), then growth a day',
          (one) => `${one.postgres.ceilingGib} GiB (${n(one.postgres.secondsUntilFull)} s), then 0`,
        ),
        row('Postgres: WAL archived a day', (one) => `${n(one.postgres.walGibPerDay)} GiB`),
        row('Redis: cores, commands/s', (one) => `${one.redis.cores}, ${n(one.redis.commandsPerSecond)}`),
        row(
          `Redis: ${BACKLOG_SECONDS / 60} min backlog → shards × node type`,
          (one) => `${one.redis.backlogGib} GiB → **${one.redis.shards} × ${one.redis.nodeType}**`,
        ),
        row('open streams one API pod holds at its target', (one) =>
          one.streamsPerApiPod < 1 ? 'less than one' : n(Math.floor(one.streamsPerApiPod)),
        ),
      ],
    ),
    'by-index': table(
      ['every job of index', 'computing it', `worker pods at ${n(TARGET_RATES[0])}/s`],
      workerPodsByIndex(costs, sizing, TARGET_RATES[0]).map((one) => [n(one.index), `${one.computeMs} ms`, one.pods]),
    ),
    'pod-shapes': table(
      ['deployment', 'requests.cpu', 'HPA target', 'cores a pod gives', 'PG_POOL_MAX', 'minReplicas'],
      (['server', 'worker'] as const).map((name) => [
        name,
        `${sizing[name].cpuRequestCores * 1000}m`,
        `${Math.round(sizing[name].targetUtilization * 100)}%`,
        String(Math.round(coresPerPod(sizing[name]) * 1000) / 1000),
        sizing[name].pgPoolMax,
        sizing[name].minReplicas,
      ]),
    ),
    bounds: table(
      ['deployment', `pods ${n(BASE_TARGET_RATE)}/s needs`, `× ${HEADROOM}: the bound`, 'the check accepts'],
      (['server', 'worker'] as const).map((name) => [
        name,
        String(bounds[name].needed),
        `**${bounds[name].recommended}**`,
        `${bounds[name].least} to ${bounds[name].most} (${OVERSIZE}×)`,
      ]),
    ),
    replicas: replicas
      ? table(
          ['replicas', 'POSTs/s', 'CPU µs per POST (server, edge)', 'jobs/s', 'CPU µs per job (server, worker, edge)', 'lost'],
          replicas.map((one) => [
            one.replicas,
            one.postsPerSecond,
            `${n(one.cpuUsPerPost)} (${n(one.serverCpuUsPerPost)}, ${n(one.edgeCpuUsPerPost)})`,
            one.jobsPerSecond,
            `${n(one.cpuUsPerJob)} (${n(one.serverCpuUsPerJob)}, ${n(one.workerCpuUsPerJob)}, ${n(one.edgeCpuUsPerJob)})`,
            one.lost,
          ]),
        )
      : 'not measured in this run',
  };
}

const BLOCK = /<!-- generated:([a-z-]+) -->\n(?:[\s\S]*?\n)?<!-- \/generated:\1 -->/g;

/** The page with every generated block replaced by its rendering; throws on a block it has no rendering for. */
export function fillPage(page: string, blocks: Record<string, string>): string {
  return page.replace(BLOCK, (_whole, name: string) => {
    if (!(name in blocks)) throw new Error(`docs/capacity.md: no rendering for the block "${name}"`);
    return `<!-- generated:${name} -->\n${blocks[name]}\n<!-- /generated:${name} -->`;
  });
}

/** The names of the generated blocks a page holds. */
export function blockNames(page: string): string[] {
  return [...page.matchAll(BLOCK)].map((match) => match[1]!);
}
