import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { serverEnv } from '../../server/src/config.js';
import { workerEnv } from '../../worker/src/config.js';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { deployables, REPO } from '../support/kustomize-render.js';

/**
 * One source for every default: each service's validated configuration (server/src/config.ts,
 * worker/src/config.ts). `.env.example`, the compose files and the Kubernetes manifests (every overlay and
 * component) may set a variable only when a service reads it, and only to a value the service accepts
 * and that differs from its default. A restated default would silently drift from the code.
 */

type Schema = { shape: Record<string, z.ZodType> };
const SERVER = serverEnv as unknown as Schema;
const WORKER = workerEnv as unknown as Schema;

/** Variables read by something other than the services' configuration, and the file that reads each. */
const READ_ELSEWHERE: Record<string, string> = {
  CHOKIDAR_USEPOLLING: 'scripts/dev/hot-restart.mjs',
  DEV_UID: 'scripts/dev/as-checkout-owner.sh',
  DEV_GID: 'scripts/dev/as-checkout-owner.sh',
};
/** The OpenTelemetry SDK reads the standard OTEL_* variables itself (service-kit/src/tracing). */
const isReadElsewhere = (name: string) => name.startsWith('OTEL_') || name in READ_ELSEWHERE;

/**
 * fibstack-config keys that restate a default on purpose, because a reader that does not know the
 * services' defaults reads them too, and the file where it does.
 */
const NEEDED_BY_OTHER_READERS: Record<string, string> = {
  PGPORT: 'k8s/22-postgres-backup.yaml',
  PGDATABASE: 'k8s/22-postgres-backup.yaml',
  REDIS_PORT: 'kustomize/components/keda-autoscaling/scaledobject.yaml',
};

const repoFile = (path: string) => readFileSync(join(REPO, path), 'utf8');

type Check = { ok: true; restatesDefault: boolean } | { ok: false; reason: string };

/** What `schema` makes of `raw` for `name`: refused, or accepted and equal to the default or not. */
function checkValue(schema: Schema, name: string, raw: string): Check {
  const field = schema.shape[name]!;
  const parsed = field.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((issue) => issue.message).join('; ') };
  const fallback = field.safeParse(undefined);
  return { ok: true, restatesDefault: fallback.success && fallback.data !== undefined && isDeepStrictEqual(parsed.data, fallback.data) };
}

/** Problems with `name=raw` for a service reading `schema` (an empty list when it is fine). */
function problemsOf(where: string, schema: Schema, name: string, raw: string, restatingAllowed = false): string[] {
  if (!(name in schema.shape)) return isReadElsewhere(name) ? [] : [`${where}: ${name} is not a variable this service reads`];
  const check = checkValue(schema, name, raw);
  if (!check.ok) return [`${where}: ${name}=${raw} is refused: ${check.reason}`];
  if (check.restatesDefault && !restatingAllowed) return [`${where}: ${name}=${raw} restates the default; leave it out`];
  return [];
}

// ---- compose

const COMPOSE_FILES = readdirSync(REPO).filter((file) => /^docker-compose[\w.-]*\.ya?ml$/.test(file));
/** Compose services that run the server's or the worker's code (migrate: the server image and settings). */
const COMPOSE_READERS: Record<string, Schema> = { server: SERVER, migrate: SERVER, worker: WORKER };
const INTERPOLATION = /\$\{(\w+)(?::?-([^}]*))?\}/g;

interface ComposeEntry {
  where: string;
  schema: Schema;
  name: string;
  value: string;
}

function composeEntries(): ComposeEntry[] {
  return COMPOSE_FILES.flatMap((file) => {
    const services =
      (
        parse(repoFile(file), { merge: true }) as {
          services?: Record<string, { environment?: Record<string, string | number | boolean | null> | string[] }>;
        }
      ).services ?? {};
    return Object.entries(services).flatMap(([service, definition]) => {
      const schema = COMPOSE_READERS[service];
      if (!schema || !definition?.environment) return [];
      const environment = Array.isArray(definition.environment)
        ? Object.fromEntries(definition.environment.map((entry) => [entry.split('=')[0]!, entry.split('=').slice(1).join('=')]))
        : definition.environment;
      return Object.entries(environment).map(([name, value]) => ({
        where: `${file} ${service}`,
        schema,
        name,
        value: String(value ?? ''),
      }));
    });
  });
}

/** Problems with one compose `environment` entry: a literal, `${NAME:-fallback}`, or a longer template. */
function composeProblems({ where, schema, name, value }: ComposeEntry): string[] {
  if (!(name in schema.shape)) return problemsOf(where, schema, name, value);
  const whole = /^\$\{(\w+)(?::?-([^}]*))?\}$/.exec(value);
  if (!whole) return value.includes('${') ? [] : problemsOf(where, schema, name, value);
  const [, variable, fallback = ''] = whole;
  if (fallback === '') return [];
  // A fallback for the same variable passed through is a default written again; for another variable
  // (PGDATABASE from POSTGRES_DB) it links two services, and only has to be valid.
  return problemsOf(where, schema, name, fallback, variable !== name);
}

/** Every `${NAME:-fallback}` in `files`: what compose reads from the environment or .env. */
function composeVariables(files: string[]): Map<string, string[]> {
  const variables = new Map<string, string[]>();
  for (const file of files) {
    for (const [, name, fallback] of repoFile(file).matchAll(INTERPOLATION)) {
      variables.set(name!, [...(variables.get(name!) ?? []), ...(fallback ? [fallback] : [])]);
    }
  }
  return variables;
}

/** `NAME=value` lines of .env.example, commented out or not: all are suggestions to a reader. */
function envExampleEntries(text: string): Array<{ name: string; value: string }> {
  return [...text.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, name, value]) => ({ name: name!, value: value!.trim() }));
}

/** .env.example is the template for docker-compose.yml (and the files laid over it); all read .env. */
function envExampleProblems(text: string): string[] {
  const variables = composeVariables(COMPOSE_FILES);
  const fallbacks = composeVariables(COMPOSE_FILES.filter((file) => file !== 'docker-compose.dev.yml'));
  const passedThrough = composeEntries().filter((entry) => !entry.where.startsWith('docker-compose.dev.yml'));
  return envExampleEntries(text).flatMap(({ name, value }) => {
    // COMPOSE_PROFILES is Compose's own setting.
    if (!variables.has(name) && name !== 'COMPOSE_PROFILES') return [`.env.example: ${name} is read by no compose file`];
    if (value === '') return [];
    if (fallbacks.get(name)?.includes(value)) return [`.env.example: ${name}=${value} restates the compose files' fallback`];
    return passedThrough
      .filter((entry) => entry.value === `\${${name}:-}` || entry.value === `\${${name}}`)
      .flatMap((entry) => problemsOf(`.env.example (for ${entry.where})`, entry.schema, entry.name, value));
  });
}

// ---- Kubernetes

interface Container {
  name: string;
  image?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  envFrom?: Array<{ configMapRef?: { name: string } }>;
}

function podSpecs(object: KubeObject): Array<{ containers: Container[]; initContainers?: Container[] }> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- four workload kinds, each nesting its pod spec differently
  const spec = object.spec as Record<string, any> | undefined;
  if (object.kind === 'CronJob') return [spec!.jobTemplate.spec.template.spec];
  if (['Deployment', 'StatefulSet', 'Job', 'DaemonSet'].includes(object.kind)) return [spec!.template.spec];
  return [];
}

/** The configuration a container of ours reads, by its image; undefined for everything else. */
function schemaOfImage(image = ''): Schema | undefined {
  const name = /(?:^|\/)fibstack-(server|worker)[:@]/.exec(image)?.[1];
  return name === 'server' ? SERVER : name === 'worker' ? WORKER : undefined;
}

function kubernetesProblems(deployable: string, objects: KubeObject[]): string[] {
  const problems: string[] = [];
  const configMaps = new Map(
    objects
      .filter((object) => object.kind === 'ConfigMap')
      .map((object) => [object.metadata.name, (object.data ?? {}) as Record<string, string>]),
  );
  const readersOf = new Map<string, Schema[]>();
  for (const object of objects) {
    for (const pod of podSpecs(object)) {
      for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
        const schema = schemaOfImage(container.image);
        if (!schema) continue;
        const where = `${deployable} ${object.kind}/${object.metadata.name} ${container.name}`;
        for (const entry of container.env ?? []) {
          const literal = entry.value !== undefined && !entry.value.includes('$(');
          problems.push(
            ...(literal
              ? problemsOf(where, schema, entry.name, entry.value!)
              : problemsOf(where, schema, entry.name, '').filter((problem) => problem.includes('not a variable'))),
          );
        }
        for (const source of container.envFrom ?? []) {
          if (source.configMapRef) readersOf.set(source.configMapRef.name, [...(readersOf.get(source.configMapRef.name) ?? []), schema]);
        }
      }
    }
  }
  for (const [configMap, readers] of readersOf) {
    for (const [name, value] of Object.entries(configMaps.get(configMap) ?? {})) {
      const knowing = readers.filter((schema) => name in schema.shape);
      const where = `${deployable} ConfigMap/${configMap}`;
      if (!knowing.length) {
        if (!isReadElsewhere(name)) problems.push(`${where}: ${name} is read by none of the services that load it`);
        continue;
      }
      for (const schema of new Set(knowing)) problems.push(...problemsOf(where, schema, name, value, name in NEEDED_BY_OTHER_READERS));
    }
  }
  return [...new Set(problems)];
}

// ----

describe('one source for every default: the services’ validated configuration', () => {
  it('the compose files set only variables the services read, to accepted values other than their defaults', () => {
    const entries = composeEntries();
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.flatMap(composeProblems)).toEqual([]);
  });

  it('.env.example suggests only variables compose reads, and no default restated', () => {
    expect(envExampleEntries(repoFile('.env.example')).length).toBeGreaterThan(3);
    expect(envExampleProblems(repoFile('.env.example'))).toEqual([]);
  });

  // Rendered while the tests are collected, as tests/k8s/manifests.test.ts does: kustomize takes seconds.
  const all = deployables();
  it('the Kubernetes manifests, every overlay and component, set only what differs from the defaults', () => {
    expect(all.length).toBeGreaterThan(5);
    expect(all.flatMap(({ name, objects }) => kubernetesProblems(name, objects))).toEqual([]);
  });

  it('a default restated on purpose names a reader that really reads it; the other readers exist', () => {
    for (const [name, file] of Object.entries({ ...NEEDED_BY_OTHER_READERS, ...READ_ELSEWHERE }))
      expect(repoFile(file), `${name} in ${file}`).toContain(name);
  });

  it('finds each kind of drift (a default restated, an unknown variable, a refused value)', () => {
    const restated = { where: 'x', schema: WORKER, name: 'WORKER_CONCURRENCY', value: '${WORKER_CONCURRENCY:-50}' };
    expect(composeProblems(restated)).toEqual(['x: WORKER_CONCURRENCY=50 restates the default; leave it out']);
    expect(composeProblems({ ...restated, value: '${WORKER_CONCURRENCY:-8}' })).toEqual([]);
    expect(composeProblems({ ...restated, name: 'WORKER_CONCURENCY', value: '8' })).toEqual([
      'x: WORKER_CONCURENCY is not a variable this service reads',
    ]);
    expect(composeProblems({ ...restated, value: 'fifty' })).toEqual([
      'x: WORKER_CONCURRENCY=fifty is refused: must be an integer from 1 to 500',
    ]);
    expect(envExampleProblems('# RATE_LIMIT_PER_MINUTE=600\nNOT_READ=1')).toEqual([
      '.env.example (for docker-compose.yml server): RATE_LIMIT_PER_MINUTE=600 restates the default; leave it out',
      '.env.example: NOT_READ is read by no compose file',
    ]);
    const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { SHUTDOWN_TIMEOUT_MS: '10000', MAX_INDEX: '7' } };
    const worker = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'w' },
      spec: { template: { spec: { containers: [{ name: 'w', image: 'fibstack-worker:1', envFrom: [{ configMapRef: { name: 'c' } }] }] } } },
    };
    const server = {
      ...worker,
      metadata: { name: 's' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 's',
                image: 'me/fibstack-server:1',
                envFrom: [{ configMapRef: { name: 'c' } }],
                env: [{ name: 'PORT', value: '5000' }],
              },
            ],
          },
        },
      },
    };
    expect(kubernetesProblems('t', [config, worker, server] as KubeObject[])).toEqual([
      't Deployment/s s: PORT=5000 restates the default; leave it out',
      't ConfigMap/c: SHUTDOWN_TIMEOUT_MS=10000 restates the default; leave it out',
    ]);
  });
});

describe('the server’s port: its PORT default is the port every other file connects to', () => {
  const port = String(SERVER.shape.PORT!.parse(undefined));
  it.each([
    ['docker-compose.yml', /127\.0\.0\.1:(\d+)\/readyz/g],
    ['docker-compose.dev.yml', /\bserver:(\d+)/g],
    ['nginx/Dockerfile', /\bserver:(\d+)/g],
    ['k8s/40-edge.yaml', /\bserver:(\d+)/g],
    ['server/Dockerfile', /^EXPOSE (\d+)$/gm],
    ['client/vite.config.ts', /127\.0\.0\.1:(\d+)/g],
  ])('%s', (file, pattern) => {
    const ports = [...repoFile(file).matchAll(pattern)].map((match) => match[1]);
    expect(ports.length).toBeGreaterThan(0);
    expect(new Set(ports)).toEqual(new Set([port]));
  });
});

// ---- the configuration table (docs/configuration.md)

type Service = 'server' | 'worker';
/** What a row states for one variable: a value (undefined: no default), for every service or for one. */
interface StatedDefault {
  name: string;
  service?: Service;
  value: string | undefined;
}

/**
 * Words a default cell may use instead of a value, and what each means here. "Owner of the checkout" is
 * decided at start (scripts/dev/as-checkout-owner.sh): compose passes nothing.
 */
const DEFAULT_WORDS: Record<string, string | undefined> = {
  unset: undefined,
  'number of cores': String(availableParallelism()),
  'owner of the checkout': undefined,
};

/**
 * Reads a default cell for `names`: one value for all (`30000`), one per name (`127.0.0.1`, `6379`, unset),
 * one per service (`10000` (server), `35000` (worker)), a list in one value (`loopback, linklocal`), or the
 * same value for each (`fibstack` each); a note in parentheses or after a colon is not part of it. Throws
 * on anything else, so no row is skipped.
 */
function statedDefaults(cell: string, names: string[]): StatedDefault[] {
  const perService = [...cell.matchAll(/`([^`]*)` \((server|worker)\)/g)];
  if (perService.length) {
    const rest = cell.replace(/`([^`]*)` \((server|worker)\)/g, '').replace(/[,\s]/g, '');
    if (rest || names.length !== 1) throw new Error(`cannot read per-service defaults "${cell}" for ${names.join(', ')}`);
    return perService.map(([, value, service]) => ({ name: names[0]!, service: service as Service, value }));
  }
  const statement = cell
    .replace(/\s*\([^)]*\)\s*$/, '')
    .replace(/^unset:.*$/, 'unset')
    .trim();
  const values = [...statement.matchAll(/`[^`]*`(?: each)?|[^,`]+/g)]
    .map(([token]) => token.trim())
    .filter(Boolean)
    .map((token) => {
      const quoted = /^`([^`]*)`(?: each)?$/.exec(token);
      if (quoted) return quoted[1];
      if (token in DEFAULT_WORDS) return DEFAULT_WORDS[token];
      throw new Error(`cannot read the default "${token}" in "${cell}"`);
    });
  if (values.length === 1) return names.map((name) => ({ name, value: values[0] }));
  if (values.length === names.length) return names.map((name, i) => ({ name, value: values[i] }));
  throw new Error(`"${cell}" states ${values.length} defaults for ${names.length} variables (${names.join(', ')})`);
}

/** The table's rows: `| `A`, `B` … | used by | default | meaning |`, each variable with what it states. */
function configurationRows(page: string) {
  const table = page.split('\n| variable | used by | default | meaning |\n')[1]!.split('\n\n')[0]!;
  return table
    .split('\n')
    .slice(1)
    .map((line) => {
      const [names, usedBy, cell] = line.split(' | ').map((part) => part.replace(/^\| /, ''));
      const named = [.../^((?:`[A-Z][A-Z0-9_]*`(?:, )?)+)/.exec(names!)![1]!.matchAll(/`(\w+)`/g)].map((match) => match[1]!);
      return { line, usedBy: usedBy!, stated: statedDefaults(cell!, named) };
    });
}

/** The default a service's schema gives `name`, and what it makes of `value` (undefined: unset). */
function defaultAndStated(schema: Schema, name: string, value: string | undefined) {
  const field = schema.shape[name]!;
  const fallback = field.safeParse(undefined);
  return { code: fallback.success ? fallback.data : '(none: required)', stated: value === undefined ? undefined : field.parse(value) };
}

describe('the configuration table (docs/configuration.md) states the defaults the code has', () => {
  const rows = configurationRows(repoFile('docs/configuration.md'));

  it('reads every row: single values, one per variable, lists, one per service, words', () => {
    expect(rows.length).toBeGreaterThan(25);
    const stated = Object.fromEntries(
      rows.flatMap((row) => row.stated).map((item) => [`${item.name}${item.service ? ` (${item.service})` : ''}`, item.value]),
    );
    // A list in one value, as a row may state it.
    expect(statedDefaults('`loopback, linklocal, uniquelocal`', ['TRUST_PROXY'])).toEqual([
      { name: 'TRUST_PROXY', value: 'loopback, linklocal, uniquelocal' },
    ]);
    expect(stated).toMatchObject({
      PGHOST: '127.0.0.1',
      PGPASSWORD: undefined,
      TRUST_PROXY: 'false',
      'SHUTDOWN_TIMEOUT_MS (server)': '10000',
      'SHUTDOWN_TIMEOUT_MS (worker)': '35000',
      COMPUTE_THREADS: String(availableParallelism()),
      POSTGRES_DB: 'fibstack',
    });
  });

  it('reads a cell it does not understand as an error, never as no default', () => {
    expect(() => statedDefaults('`1`, `2`', ['A'])).toThrow(/states 2 defaults for 1 variables/);
    expect(() => statedDefaults('about ten', ['A'])).toThrow(/cannot read the default "about ten"/);
    expect(() => statedDefaults('`1` (server), `2` (worker)', ['A', 'B'])).toThrow(/per-service/);
  });

  it('for every variable of the server and the worker, the default each service has', () => {
    const compared = new Set<string>();
    for (const { name, service, value } of rows.flatMap((row) => row.stated)) {
      const readers = (
        [
          ['server', SERVER],
          ['worker', WORKER],
        ] as const
      ).filter(([reader, schema]) => name in schema.shape && (!service || service === reader));
      if (service)
        expect(
          readers.map(([reader]) => reader),
          `${name} (${service}) is read by that service`,
        ).toEqual([service]);
      for (const [reader, schema] of readers) {
        const { code, stated } = defaultAndStated(schema, name, value);
        expect(stated, `docs/configuration.md default of ${name} for the ${reader}`).toEqual(code);
        compared.add(name);
      }
    }
    const readByServices = new Set([...Object.keys(SERVER.shape), ...Object.keys(WORKER.shape)]);
    expect([...compared].sort()).toEqual(
      [...readByServices].filter((name) => rows.some((row) => row.stated.some((item) => item.name === name))).sort(),
    );
    expect(compared).toContain('TRUST_PROXY');
    expect(compared).toContain('SHUTDOWN_TIMEOUT_MS');
  });

  it('for every variable only compose reads, the default its ${VAR:-default} gives', () => {
    const composeText = COMPOSE_FILES.map(repoFile).join('\n');
    const checked: string[] = [];
    for (const { name, value } of rows.flatMap((row) => row.stated)) {
      if (name in SERVER.shape || name in WORKER.shape) continue;
      const given = [...composeText.matchAll(new RegExp(`\\$\\{${name}:-([^}]*)\\}`, 'g'))].map((match) => match[1] || undefined);
      if (!given.length) continue;
      expect(new Set(given), `docs/configuration.md default of ${name}`).toEqual(new Set([value]));
      checked.push(name);
    }
    expect(checked).toEqual(
      expect.arrayContaining(['FIBSTACK_PORT', 'FIBSTACK_HOST', 'POSTGRES_PASSWORD', 'CHOKIDAR_USEPOLLING', 'DEV_UID']),
    );
  });
});
