import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { z } from 'zod';
import { serverEnv } from '../../server/src/config.js';
import { workerEnv } from '../../worker/src/config.js';
import type { KubeObject } from './kubernetes-schema.js';
import { deployables, REPO } from './render.js';

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
  // Kubernetes expands $(FIBSTACK_VERSION) into OTEL_RESOURCE_ATTRIBUTES.
  FIBSTACK_VERSION: 'kustomize/components/observability/kustomization.yaml',
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
    ['tests/containers/podman.ts', /127\.0\.0\.1:(\d+)\/readyz/g],
  ])('%s', (file, pattern) => {
    const ports = [...repoFile(file).matchAll(pattern)].map((match) => match[1]);
    expect(ports.length).toBeGreaterThan(0);
    expect(new Set(ports)).toEqual(new Set([port]));
  });
});

describe('the README configuration table states the defaults the code has', () => {
  /** `| `A`, `B` | used by | `1`, `2` (note) | meaning |` rows: the variables and the defaults they state. */
  const rows = [...repoFile('README.md').matchAll(/^\| (`[A-Z][A-Z0-9_]*`(?:, `[A-Z][A-Z0-9_]*`)*)[^|]* \| [^|]+ \| ([^|]+) \|/gm)].map(
    ([, names, defaults]) => ({
      names: [...names!.matchAll(/`(\w+)`/g)].map((match) => match[1]!),
      // What a row states before any parenthesis ("`false` (`true` in compose and k8s)"); "unset" is no default.
      // A row with a default per service ("`10000` (server), `35000` (worker)") is read by a person, not here.
      perService: /\((server|worker)\)/.test(defaults!),
      stated: defaults!
        .split('(')[0]!
        .split(',')
        .map((part) => part.trim())
        .map((part) => /^`(.*)`$/.exec(part)?.[1] ?? (part.startsWith('unset') ? '' : undefined)),
    }),
  );

  it('for every variable of the server and the worker it lists with one default each', () => {
    const compared: string[] = [];
    for (const { names, stated, perService } of rows) {
      if (perService || (stated.length !== names.length && stated.length !== 1)) continue;
      names.forEach((name, i) => {
        const value = stated.length === 1 ? stated[0] : stated[i];
        const schemas = [SERVER, WORKER].filter((schema) => name in schema.shape);
        if (value === undefined || !schemas.length) return;
        for (const schema of schemas) {
          const fallback = schema.shape[name]!.safeParse(undefined);
          const expected = fallback.success && fallback.data !== undefined ? JSON.stringify(fallback.data).replace(/^"(.*)"$/, '$1') : '';
          expect(value, `README default of ${name}`).toBe(expected);
        }
        compared.push(name);
      });
    }
    expect(compared).toEqual(
      expect.arrayContaining(['PORT', 'MAX_INDEX', 'RATE_LIMIT_PER_MINUTE', 'WORKER_CONCURRENCY', 'JOB_TIMEOUT_MS', 'PGUSER']),
    );
  });
});
