#!/usr/bin/env node
// The native stack itself, started by start.mjs (which has installed and built what it needs) in a process
// group of its own: run-stack.mjs --port 3050 --host 127.0.0.1 [--dev]. It stops everything, each service
// with one SIGTERM, when it gets SIGTERM, when the launcher goes away, or when one of its own processes
// dies: a stack with a dead server must not keep Postgres, Redis and the worker running behind nothing.
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { leaveSignalsToCaller } from '@fibstack/devstack/postgres';
import { startNativeStack } from '@fibstack/devstack/stack';

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string' }, dev: { type: 'boolean' } } });
const root = fileURLToPath(new URL('../../', import.meta.url));
// Postgres listens on a port chosen at each start, so other tools (npm run migrate, psql) read its URL
// here while the stack runs: DATABASE_URL="$(cat .data/database-url)" npm run migrate
const databaseUrlFile = join(root, '.data', 'database-url');

// This process stops Postgres itself, after the services that use it.
leaveSignalsToCaller();

const startedAt = Date.now();
const starting = startNativeStack({
  port: Number(values.port),
  host: values.host,
  dataDir: join(root, '.data'),
  persistent: true,
  dev: values.dev,
  redisUrl: process.env.REDIS_URL || undefined,
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...(process.env.MAX_INDEX ? { MAX_INDEX: process.env.MAX_INDEX } : {}) },
  output: 'terminal',
});

let stopping;
/** Stops once, whatever asks first; a stop during start-up waits for the start, so nothing is left behind. */
function stop(reason, exitCode) {
  stopping ??= (async () => {
    if (reason) console.error(`[start] ${reason}; stopping everything.`);
    const stack = await starting.catch(() => undefined);
    rmSync(databaseUrlFile, { force: true });
    await stack?.stop();
    process.exit(exitCode);
  })();
}
process.on('SIGTERM', () => stop(undefined, 0));
process.on('SIGINT', () => stop(undefined, 0));
process.on('disconnect', () => stop('the launcher went away', 1));

try {
  const stack = await starting;
  stack.failed.then((reason) => stop(reason, 1));
  if (!stopping) {
    writeFileSync(databaseUrlFile, `${stack.databaseUrl}\n`, { mode: 0o600 });
    // Without its password: a terminal's output ends up in scrollback, screen shares and bug reports.
    const shown = new URL(stack.databaseUrl);
    shown.password = '';
    console.log(`[start] database: ${shown} (with its password in .data/database-url while running)`);
    console.log(`[start] fibstack is up in ${Date.now() - startedAt} ms: ${stack.url.replace('127.0.0.1', 'localhost')}  (Ctrl-C to stop)`);
  }
} catch (error) {
  console.error(`[start] could not start: ${error.message}`);
  process.exit(1);
}
