import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import './test-database.js';
import { freePort } from './ports.js';
import { startPostgres } from './postgres.js';

/**
 * Vitest global setup: one real Postgres server per test run, in a temporary directory that is removed
 * afterwards. Each test file creates its own database on it (see test-database.ts).
 */
export default async function setup(project: TestProject) {
  const dataDir = await mkdtemp(join(tmpdir(), 'fibstack-test-pg-'));
  const postgres = await startPostgres({ dataDir, port: await freePort(), persistent: false });
  project.provide('postgresAdminUrl', postgres.url);
  return async () => {
    await postgres.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
