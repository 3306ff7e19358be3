#!/usr/bin/env node
// `npm start` / `npm run dev`: the whole app natively, without Docker.
// Plain JavaScript on purpose: it runs before dependencies are installed or anything is built,
// installs and builds what is missing, then hands over to @fibstack/devstack.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dev = process.argv.includes('--dev');
const port = Number(process.env.PORT ?? 3050);
const dataDir = join(root, '.data');
const buildStamp = join(dataDir, 'build-stamp');
const workspaces = ['contract', 'service-kit', 'devstack', 'server', 'worker', 'client'];

function run(command, args) {
  console.log(`[start] ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function newestChange(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path)
    .filter((name) => name !== 'node_modules' && name !== 'dist')
    .reduce((newest, name) => Math.max(newest, newestChange(join(path, name))), stat.mtimeMs);
}

function buildIsStale() {
  if (!existsSync(buildStamp)) return true;
  if (workspaces.some((name) => !existsSync(join(root, name, 'dist')))) return true;
  const builtAt = statSync(buildStamp).mtimeMs;
  return workspaces.some((name) => newestChange(join(root, name)) > builtAt);
}

if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) run('npm', ['ci', '--no-audit', '--no-fund']);
if (buildIsStale()) {
  run('npm', ['run', 'build']);
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(buildStamp, new Date().toISOString());
}

const { startNativeStack } = await import('@fibstack/devstack/stack');
const { hasRedisServer, REDIS_MISSING_HELP } = await import('@fibstack/devstack/redis');
if (!process.env.REDIS_URL && !hasRedisServer()) {
  console.error(`[start] ${REDIS_MISSING_HELP}`);
  process.exit(1);
}

const startedAt = Date.now();
const stack = await startNativeStack({
  port,
  dataDir,
  persistent: true,
  dev,
  redisUrl: process.env.REDIS_URL || undefined,
  env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', ...(process.env.MAX_INDEX ? { MAX_INDEX: process.env.MAX_INDEX } : {}) },
  output: 'terminal',
}).catch((error) => {
  console.error(`[start] could not start: ${error.message}`);
  process.exit(1);
});
console.log(`[start] fibstack is up in ${Date.now() - startedAt} ms: ${stack.url.replace('127.0.0.1', 'localhost')}  (Ctrl-C to stop)`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log('[start] stopping…');
    await stack.stop();
    process.exit(0);
  });
}
