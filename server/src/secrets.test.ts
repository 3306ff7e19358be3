import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canary, runEntryPoint, type EntryPointRun } from '@fibstack/devstack/leak-check';
import { freePort } from '@fibstack/devstack/ports';
import type { NativeRedis } from '@fibstack/devstack/redis';
import { createTestDatabase, startTestRedis } from '@fibstack/devstack/test-database';
import { secretNames } from '@fibstack/service-kit/config';
import { otlpEnv } from '@fibstack/service-kit/tracing/otlp-env';
import { migrateEnv, serverEnv } from './config.js';

/**
 * No secret in any output: the compiled server (with the tracing preload, as its image runs it) and
 * migrate are given each secret-bearing variable malformed, so that they refuse to start, or wrong, so
 * that they run and their connections fail; the secret, a canary, must appear nowhere in what they
 * print, nor in what the server answers (errors, /readyz, /metrics).
 */
const serverDir = fileURLToPath(new URL('..', import.meta.url));
const SERVER = ['--import', '@fibstack/service-kit/tracing/preload', 'dist/main.js'];
const MIGRATE = ['dist/migrate.js'];

const SECRET = canary();
/** For BULL_BOARD_PASSWORD, whose malformed value is one too short. */
const SHORT_SECRET = canary(11);

interface Case {
  /** The variable that carries the secret. */
  variable: string;
  /** Made when the test runs: the files, the database and Redis exist only then. */
  env: () => Record<string, string>;
  secret: string;
}

let scratch: string;
/** The path of a new file holding `content`, for the NAME_FILE variables. */
function file(content: string): string {
  const path = join(scratch, `secret-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, `${content}\n`, { mode: 0o600 });
  return path;
}

let databaseUrl: string;
let redisServer: NativeRedis;
/** A URL of the test database with `password` in place of its own. */
const databaseUrlWith = (password: string) => {
  const url = new URL(databaseUrl);
  url.password = password;
  return url.toString();
};

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'fibstack-secrets-'));
  databaseUrl = await createTestDatabase(inject('postgresAdminUrl'));
  redisServer = await startTestRedis();
});
afterAll(async () => {
  await redisServer?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const malformedDatabaseUrl = (secret: string) => `postgres://postgres:${secret}#1@127.0.0.1:5432/fibstack`;
const malformedRedisUrl = (secret: string) => `redis://:${secret}#@127.0.0.1:6379`;
/** The test database as PG* variables, without its password. */
const pgParts = () => {
  const url = new URL(databaseUrl);
  return { DATABASE_URL: '', PGHOST: url.hostname, PGPORT: url.port, PGUSER: 'postgres', PGDATABASE: url.pathname.slice(1) };
};
const redisParts = () => ({ REDIS_URL: '', REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redisServer.port) });
const collector = 'http://127.0.0.1:4318';

/** Values the server refuses at start. */
const REFUSED_BY_SERVER: Case[] = [
  { variable: 'DATABASE_URL', env: () => ({ DATABASE_URL: malformedDatabaseUrl(SECRET) }), secret: SECRET },
  {
    variable: 'DATABASE_URL_FILE',
    env: () => ({ DATABASE_URL: '', DATABASE_URL_FILE: file(malformedDatabaseUrl(SECRET)) }),
    secret: SECRET,
  },
  { variable: 'REDIS_URL', env: () => ({ REDIS_URL: malformedRedisUrl(SECRET) }), secret: SECRET },
  { variable: 'REDIS_URL_FILE', env: () => ({ REDIS_URL: '', REDIS_URL_FILE: file(malformedRedisUrl(SECRET)) }), secret: SECRET },
  {
    variable: 'BULL_BOARD_PASSWORD',
    env: () => ({ BULL_BOARD_ENABLED: 'true', BULL_BOARD_PASSWORD: SHORT_SECRET }),
    secret: SHORT_SECRET,
  },
  {
    variable: 'BULL_BOARD_PASSWORD_FILE',
    env: () => ({ BULL_BOARD_ENABLED: 'true', BULL_BOARD_PASSWORD_FILE: file(SHORT_SECRET) }),
    secret: SHORT_SECRET,
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://user:${SECRET}#@127.0.0.1:4318` }),
    secret: SECRET,
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    env: () => ({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://user:${SECRET}#@127.0.0.1:4318/v1/traces` }),
    secret: SECRET,
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_HEADERS',
    env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: collector, OTEL_EXPORTER_OTLP_HEADERS: `api-key=${SECRET};x` }),
    secret: SECRET,
  },
  {
    variable: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
    env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: collector, OTEL_EXPORTER_OTLP_TRACES_HEADERS: `Authorization=Bearer ${SECRET}%` }),
    secret: SECRET,
  },
];

/** Well-formed but wrong values: the server starts, and its connections fail. */
const WRONG_FOR_SERVER: Case[] = [
  { variable: 'DATABASE_URL', env: () => ({ DATABASE_URL: databaseUrlWith(SECRET) }), secret: SECRET },
  { variable: 'PGPASSWORD', env: () => ({ ...pgParts(), PGPASSWORD: SECRET }), secret: SECRET },
  { variable: 'PGPASSWORD_FILE', env: () => ({ ...pgParts(), PGPASSWORD_FILE: file(SECRET) }), secret: SECRET },
  { variable: 'REDIS_URL', env: () => ({ REDIS_URL: `redis://:${SECRET}@127.0.0.1:${redisServer.port}` }), secret: SECRET },
  { variable: 'REDIS_PASSWORD', env: () => ({ ...redisParts(), REDIS_PASSWORD: SECRET }), secret: SECRET },
  { variable: 'REDIS_PASSWORD_FILE', env: () => ({ ...redisParts(), REDIS_PASSWORD_FILE: file(SECRET) }), secret: SECRET },
  {
    variable: 'OTEL_EXPORTER_OTLP_HEADERS',
    // A collector that refuses, and the SDK's own diagnostics at their most talkative.
    env: () => ({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_EXPORTER_OTLP_HEADERS: `api-key=${SECRET}`,
      OTEL_LOG_LEVEL: 'debug',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    }),
    secret: SECRET,
  },
];

/** What the server prints when its connection with `variable` fails. */
const failureLine = (variable: string) =>
  variable.startsWith('REDIS') ? 'Redis connection failed' : variable.startsWith('OTEL') ? 'request completed' : 'request errored';

/** A secret in any form it could be printed in: as is, percent-encoded, JSON-escaped. */
function expectNowhere(secret: string, ...texts: string[]) {
  for (const text of texts) {
    for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) expect(text).not.toContain(form);
  }
}

describe('the server never prints a secret', () => {
  it('has a case for every secret-bearing variable it reads, and for the file each may come from', () => {
    const covered = new Set([...REFUSED_BY_SERVER, ...WRONG_FOR_SERVER].map((c) => c.variable));
    const secrets = [...secretNames(serverEnv).flatMap((name) => [name, `${name}_FILE`]), ...secretNames(otlpEnv)];
    expect(secrets.filter((name) => !covered.has(name))).toEqual([]);
  });

  it.each(REFUSED_BY_SERVER.map((c) => [c.variable, c] as const))('%s malformed: refused at start, named, not shown', async (_name, c) => {
    const run = runEntryPoint(SERVER, serverDir, {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisServer.url,
      PORT: String(await freePort()),
      ...c.env(),
    });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(`${c.variable.replace(/_FILE$/, '')}: `);
    expectNowhere(c.secret, run.output());
  });

  it.each(WRONG_FOR_SERVER.map((c) => [c.variable, c] as const))(
    '%s wrong: the failures it causes are logged and answered without it',
    async (_name, c) => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const run: EntryPointRun = runEntryPoint(SERVER, serverDir, {
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisServer.url,
        PORT: String(port),
        PG_CONNECT_TIMEOUT_MS: '2000',
        ...c.env(),
      });
      try {
        await run.printed('API listening');
        const answers: string[] = [];
        const submitted = await fetch(`${base}/api/values`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{"index":7}',
        });
        answers.push(await submitted.text());
        for (const path of ['/readyz', '/metrics', '/api/values']) answers.push(await (await fetch(`${base}${path}`)).text());
        await run.printed(failureLine(c.variable));
        expectNowhere(c.secret, run.output(), ...answers);
      } finally {
        await run.stop();
      }
      expectNowhere(c.secret, run.output());
    },
  );
});

describe('migrate never prints a secret', () => {
  const refused: Case[] = [
    { variable: 'DATABASE_URL', env: () => ({ DATABASE_URL: malformedDatabaseUrl(SECRET) }), secret: SECRET },
    {
      variable: 'DATABASE_URL_FILE',
      env: () => ({ DATABASE_URL: '', DATABASE_URL_FILE: file(malformedDatabaseUrl(SECRET)) }),
      secret: SECRET,
    },
  ];
  const wrong: Case[] = [
    { variable: 'DATABASE_URL', env: () => ({ DATABASE_URL: databaseUrlWith(SECRET) }), secret: SECRET },
    { variable: 'PGPASSWORD', env: () => ({ ...pgParts(), PGPASSWORD: SECRET }), secret: SECRET },
    { variable: 'PGPASSWORD_FILE', env: () => ({ ...pgParts(), PGPASSWORD_FILE: file(SECRET) }), secret: SECRET },
  ];

  it('has a case for every secret-bearing variable it reads, and for the file each may come from', () => {
    const covered = new Set([...refused, ...wrong].map((c) => c.variable));
    expect(
      secretNames(migrateEnv)
        .flatMap((name) => [name, `${name}_FILE`])
        .filter((name) => !covered.has(name)),
    ).toEqual([]);
  });

  it.each(refused.map((c) => [c.variable, c] as const))('%s malformed: refused, named, not shown', async (_name, c) => {
    const run = runEntryPoint(MIGRATE, serverDir, c.env());
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('DATABASE_URL: ');
    expectNowhere(c.secret, run.output());
  });

  it.each(wrong.map((c) => [c.variable, c] as const))('%s wrong: the migration fails, saying why without it', async (_name, c) => {
    const run = runEntryPoint(MIGRATE, serverDir, c.env());
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain('password authentication failed');
    expectNowhere(c.secret, run.output());
  });
});
