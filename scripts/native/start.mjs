#!/usr/bin/env node
// `npm start` / `npm run dev`: the whole app natively, without Docker.
// Plain JavaScript on purpose: it runs before dependencies are installed or anything is built. It checks
// the settings and the port, installs and builds what is missing (saying what it is doing), then runs the
// stack (run-stack.mjs) in a process group of its own.
//
// Why a separate process group: a terminal's Ctrl-C signals its whole foreground group. Had the services
// been in it, each would get that SIGINT and then the SIGTERM sent while stopping — and a second signal
// makes them exit at once, skipping the graceful drain — while Postgres would stop under them. Here only
// this launcher hears the terminal, and the stack gets exactly one SIGTERM, which it passes on to each
// service once, in order.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dev = process.argv.includes('--dev');
const log = (message) => console.log(`[start] ${message}`);
const fail = (message) => {
  console.error(`[start] ${message}`);
  process.exit(1);
};

/** The same rule and wording as the services' own config validation (service-kit/src/config.ts). */
function readPort() {
  const raw = process.env.PORT ?? '3050';
  const port = /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!(port >= 1 && port <= 65535))
    fail(`Invalid configuration:\n  PORT: must be an integer from 1 to 65535 (got ${JSON.stringify(raw)})`);
  return port;
}
const port = readPort();
// Loopback unless asked: a dev server on every interface shows the app (and Vite, the source) to the network.
const host = process.env.HOST || '127.0.0.1';

/** Fails now, before minutes of installing and building, when something already listens on the port. */
function checkPortFree() {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error) =>
      fail(
        error.code === 'EADDRINUSE'
          ? `port ${port} on ${host} is already in use (another fibstack, or a compose stack?). ` +
              `Stop it, or choose another port: PORT=${port + 10} npm ${dev ? 'run dev' : 'start'}`
          : `cannot listen on ${host}:${port}: ${error.message}`,
      ),
    );
    probe.listen(port, host, () => probe.close(resolve));
  });
}
await checkPortFree();

/** Runs a command with the terminal attached; prints a line every 15 s so a long step never looks stuck. */
function run(what, command, args) {
  const startedAt = Date.now();
  log(`${what}: ${command} ${args.join(' ')}`);
  const ticker = setInterval(() => log(`… still ${what} (${Math.round((Date.now() - startedAt) / 1000)} s)`), 15_000);
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      clearInterval(ticker);
      if (code !== 0) fail(`${what} failed (${signal ?? `exit code ${code}`})`);
      log(`${what}: done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
      resolve();
    });
  });
}

const dataDir = join(root, '.data');
const stampDir = join(dataDir, 'build-stamps');
// In build order. Dev mode runs everything from its TypeScript sources except the launcher's own library.
const workspaces = dev ? ['service-kit', 'devstack'] : ['contract', 'service-kit', 'devstack', 'server', 'worker', 'client'];

function newestChange(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path)
    .filter((name) => name !== 'node_modules' && name !== 'dist')
    .reduce((newest, name) => Math.max(newest, newestChange(join(path, name))), stat.mtimeMs);
}

function isStale(workspace) {
  const stamp = join(stampDir, workspace);
  if (!existsSync(stamp) || !existsSync(join(root, workspace, 'dist'))) return true;
  return newestChange(join(root, workspace)) > statSync(stamp).mtimeMs;
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  await run('installing dependencies', 'npm', ['ci', '--no-audit', '--no-fund']);
}
// A workspace is rebuilt when it changed, and so is every one after it (they may use what changed).
const firstStale = workspaces.findIndex(isStale);
if (firstStale >= 0) {
  const toBuild = workspaces.slice(firstStale);
  log(`building ${toBuild.join(', ')}${existsSync(stampDir) ? '' : ' (the first build takes a minute or two)'}`);
  mkdirSync(stampDir, { recursive: true });
  for (const [i, workspace] of toBuild.entries()) {
    await run(`building ${workspace} (${i + 1}/${toBuild.length})`, 'npm', ['run', 'build', '--silent', '-w', `@fibstack/${workspace}`]);
    writeFileSync(join(stampDir, workspace), new Date().toISOString());
  }
}

const stack = spawn(
  process.execPath,
  [join(root, 'scripts/native/run-stack.mjs'), '--port', String(port), '--host', host, ...(dev ? ['--dev'] : [])],
  // The IPC channel closes if this launcher dies, and the stack then stops itself.
  { cwd: root, detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) return; // the stack is already stopping, each service once; it is bounded by their timeouts
    stopping = true;
    log('stopping…');
    stack.kill('SIGTERM');
  });
}
stack.on('exit', (code, signal) => {
  if (stopping) log(code === 0 ? 'stopped.' : `stopped, with errors (${signal ?? `exit code ${code}`}).`);
  process.exit(code ?? 1);
});
