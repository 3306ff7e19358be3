import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { canary, runEntryPoint } from '@fibstack/devstack/leak-check';
import type { NativeRedis } from '@fibstack/devstack/redis';
import { createTestDatabase, startTestRedis } from '@fibstack/devstack/test-database';
import { secretNames } from '@fibstack/service-kit/config';
import { workerEnv } from './config.js';

/**
 * No secret in any output: the compiled worker is given each secret-bearing variable malformed, so that
 * it refuses to start, or wrong, so that it runs and its connections fail; the secret, a canary, must
 * appear nowhere in what it prints.
 */
const workerDir = fileURLToPath(new URL('..', import.meta.url));
const WORKER = ['--import', '@fibstack/service-kit/tracing/preload', 'dist/main.js'];
const SECRET = canary();

interface Case {
  variable: string;
  /** Made when the test runs: the files, the database and Redis exist only then. */
  env: () => Record<string, string>;
  /** What the worker prints once the failure has happened (for a wrong value). */
  failure?: string;
}

let scratch: string;
let databaseUrl: string;
let redisServer: NativeRedis;
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'fibstack-worker-secrets-'));
  databaseUrl = await createTestDatabase(inject('postgresAdminUrl'));
  redisServer = await startTestRedis();
});
afterAll(async () => {
  await redisServer?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

function file(content: string): string {
  const path = join(scratch, `secret-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, `${content}\n`, { mode: 0o600 });
  return path;
}
const pgParts = () => {
  const url = new URL(databaseUrl);
  return { DATABASE_URL: '', PGHOST: url.hostname, PGPORT: url.port, PGUSER: 'postgres', PGDATABASE: url.pathname.slice(1) };
};
const redisParts = () => ({ REDIS_URL: '', REDIS_HOST: '127.0.0.1', REDIS_PORT: String(redisServer.port) });
const wrongDatabaseUrl = () => {
  const url = new URL(databaseUrl);
  url.password = SECRET;
  return url.toString();
};
const malformedDatabaseUrl = `postgres://postgres:${SECRET}#1@127.0.0.1:5432/fibstack`;
const malformedRedisUrl = `redis://:${SECRET}#@127.0.0.1:6379`;
const POSTGRES_FAILED = 'reconcile pass failed';
const REDIS_FAILED = 'Redis connection failed';

const REFUSED: Case[] = [
  { variable: 'DATABASE_URL', env: () => ({ DATABASE_URL: malformedDatabaseUrl }) },
  { variable: 'DATABASE_URL_FILE', env: () => ({ DATABASE_URL: '', DATABASE_URL_FILE: file(malformedDatabaseUrl) }) },
  { variable: 'REDIS_URL', env: () => ({ REDIS_URL: malformedRedisUrl }) },
  { variable: 'REDIS_URL_FILE', env: () => ({ REDIS_URL: '', REDIS_URL_FILE: file(malformedRedisUrl) }) },
];

const WRONG: Case[] = [
  { variable: 'DATABASE_URL', env: () => ({ DATABASE_URL: wrongDatabaseUrl() }), failure: POSTGRES_FAILED },
  { variable: 'PGPASSWORD', env: () => ({ ...pgParts(), PGPASSWORD: SECRET }), failure: POSTGRES_FAILED },
  { variable: 'PGPASSWORD_FILE', env: () => ({ ...pgParts(), PGPASSWORD_FILE: file(SECRET) }), failure: POSTGRES_FAILED },
  { variable: 'REDIS_URL', env: () => ({ REDIS_URL: `redis://:${SECRET}@127.0.0.1:${redisServer.port}` }), failure: REDIS_FAILED },
  { variable: 'REDIS_PASSWORD', env: () => ({ ...redisParts(), REDIS_PASSWORD: SECRET }), failure: REDIS_FAILED },
  { variable: 'REDIS_PASSWORD_FILE', env: () => ({ ...redisParts(), REDIS_PASSWORD_FILE: file(SECRET) }), failure: REDIS_FAILED },
];

function expectNowhere(output: string) {
  for (const form of [SECRET, encodeURIComponent(SECRET), JSON.stringify(SECRET).slice(1, -1)]) expect(output).not.toContain(form);
}

describe('the worker never prints a secret', () => {
  it('has a case for every secret-bearing variable it reads, and for the file each may come from', () => {
    const covered = new Set([...REFUSED, ...WRONG].map((c) => c.variable));
    expect(
      secretNames(workerEnv)
        .flatMap((name) => [name, `${name}_FILE`])
        .filter((name) => !covered.has(name)),
    ).toEqual([]);
  });

  it.each(REFUSED.map((c) => [c.variable, c] as const))('%s malformed: refused at start, named, not shown', async (_name, c) => {
    const run = runEntryPoint(WORKER, workerDir, { DATABASE_URL: databaseUrl, REDIS_URL: redisServer.url, ...c.env() });
    expect(await run.exited).toBe(1);
    expect(run.output()).toContain(`${c.variable.replace(/_FILE$/, '')}: `);
    expectNowhere(run.output());
  });

  it.each(WRONG.map((c) => [c.variable, c] as const))('%s wrong: the failures it causes are logged without it', async (_name, c) => {
    const run = runEntryPoint(WORKER, workerDir, {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisServer.url,
      COMPUTE_THREADS: '1',
      RECONCILE_INTERVAL_MS: '500',
      ...c.env(),
    });
    try {
      await run.printed(c.failure!);
      expectNowhere(run.output());
    } finally {
      await run.stop();
    }
    expectNowhere(run.output());
  });
});
