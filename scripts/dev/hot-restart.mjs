#!/usr/bin/env node
// Development runner for the server and the worker (docker-compose.dev.yml, `npm run dev`):
//   node scripts/dev/hot-restart.mjs [--overlap] server/src/main.ts
// runs a TypeScript entry under tsx with the `development` export condition, so the shared workspaces
// (contract, service-kit) are loaded from their sources, and restarts it when a source file of its
// workspace or of a workspace it depends on changes.
//
// Why not `tsx watch`: it stops the old process before it starts the new one, so an API restart left the
// port closed for seconds and the edge answered 503 meanwhile. With --overlap the new process is started
// first and the old one gets its SIGTERM only once the new one listens; the port stays open throughout
// because it belongs to this process (Node's cluster module hands each connection to a listening child).
// A change that fails to start leaves the running process serving. Without --overlap (the worker) the old
// process stops before the new one starts. Either way the next process is already running, its npm
// dependencies loaded (warm-start.mjs), so a restart only loads the sources.
//
// File events do not reach containers from bind mounts on Docker Desktop for Windows: set
// CHOKIDAR_USEPOLLING=true there (the variable Vite and tsx read too); CHOKIDAR_INTERVAL is the period (ms).
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchSources } from './watch-sources.mjs';

const args = process.argv.slice(2);
const overlap = args.includes('--overlap');
const entry = args.find((arg) => !arg.startsWith('--'));
if (!entry) {
  console.error('usage: hot-restart.mjs [--overlap] <workspace>/src/main.ts');
  process.exit(2);
}

const root = process.cwd();
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const log = (message) => console.log(`[hot-restart] ${message}`);

const workspaceOf = new Map(
  readJson(join(root, 'package.json')).workspaces.map((dir) => [readJson(join(root, dir, 'package.json')).name, dir]),
);
const ownWorkspace = relative(root, resolve(root, entry)).split(/[\\/]/)[0];
const dependencies = Object.keys(readJson(join(root, ownWorkspace, 'package.json')).dependencies ?? {});
/** The `src` folders whose changes reach this entry: its own workspace's and those of its workspace deps. */
const watchedFolders = [ownWorkspace, ...dependencies.filter((name) => workspaceOf.has(name)).map((name) => workspaceOf.get(name))].map(
  (dir) => join(root, dir, 'src'),
);
/** What a spare process loads ahead: the npm packages, which edits do not change. */
const preloaded = dependencies.filter((name) => !workspaceOf.has(name));

const isSource = (file) => /\.(ts|tsx|mts|js|mjs|json)$/.test(file) && !/\.test\.tsx?$/.test(file);

cluster.setupPrimary({
  exec: fileURLToPath(new URL('./warm-start.mjs', import.meta.url)),
  args: [entry, ...preloaded],
  execArgv: ['--conditions=development', '--import', 'tsx', ...process.execArgv],
});

let spare; // the next process, started ahead (warm-start.mjs)
/** Starts a process that loads the dependencies; `warm` settles once it has (and listens for "go"). */
function forkWarm() {
  const child = cluster.fork();
  child.warm = new Promise((resolve) => child.on('message', (message) => message === 'warm' && resolve()));
  return child;
}
function takeSpare() {
  const next = spare && !spare.isDead() ? spare : forkWarm();
  spare = undefined;
  void next.warm.then(() => next.isConnected() && next.send('go'));
  return next;
}
function forkSpare() {
  if (stopping || spare) return;
  const child = forkWarm();
  spare = child;
  void child.warm.then(() => spare === child && log('ready for the next change'));
}

/**
 * Takes an old process out of service: first out of the cluster's round robin (disconnect closes its
 * listener once every connection already handed to it has been answered), then its SIGTERM. A process
 * signalled first could exit with a connection still on its way to it, and that client would wait forever.
 */
function retire(old) {
  old.once('disconnect', () => old.process.kill('SIGTERM'));
  old.disconnect();
}

let current; // the process serving now
let starting; // true while a restart is under way, then the process being started
let restartQueued = false;
let stopping = false;

function start(reason) {
  if (stopping) return;
  if (starting) {
    restartQueued = true;
    return;
  }
  starting = true;
  const startedAt = Date.now();
  const previous = current;
  const launch = () => {
    if (stopping) return;
    const next = takeSpare();
    starting = next;
    const ready = () => {
      if (starting !== next) return;
      starting = undefined;
      current = next;
      log(overlap ? `${entry} listening after ${Date.now() - startedAt} ms` : `${entry} started`);
      if (overlap && previous && !previous.isDead()) retire(previous);
      if (restartQueued) {
        restartQueued = false;
        start('a change during the restart');
      } else {
        forkSpare();
      }
    };
    if (overlap) next.once('listening', ready);
    else next.on('message', (message) => message === 'started' && ready());
    next.once('exit', (code, signal) => {
      if (starting === next) {
        starting = undefined;
        const kept = current && !current.isDead() ? '; the previous one keeps running' : '';
        log(`${entry} exited (${signal ?? `code ${code}`}) before it was ready${kept}.`);
        if (restartQueued) {
          restartQueued = false;
          start('a change during the restart');
        } else {
          log('Waiting for a change.');
          forkSpare();
        }
      } else if (current === next && !stopping) {
        current = undefined;
        log(`${entry} exited (${signal ?? `code ${code}`}). Waiting for a change.`);
      }
    });
  };
  if (reason) log(`${reason}: restarting ${entry}`);
  if (!overlap && previous && !previous.isDead()) {
    previous.once('exit', launch);
    previous.process.kill('SIGTERM');
  } else {
    launch();
  }
}

let debounce;
watchSources(watchedFolders, {
  polling: /^(1|true)$/i.test(process.env.CHOKIDAR_USEPOLLING ?? ''),
  interval: Number(process.env.CHOKIDAR_INTERVAL) || 100,
  root,
  isSource,
  log,
  onChange(file) {
    clearTimeout(debounce);
    // Editors often write a file in several steps; one restart per burst.
    debounce = setTimeout(() => start(`${relative(root, file)} changed`), 50);
  },
});
start();

// One signal per child: the native launcher starts this runner in a process group of its own and Docker's
// init signals only this process, so a Ctrl-C reaches each child exactly once, as the SIGTERM sent here.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    const alive = Object.values(cluster.workers ?? {}).filter((child) => child && !child.isDead());
    if (stopping) {
      for (const child of alive) child.process.kill(signal);
      return;
    }
    stopping = true;
    clearTimeout(debounce);
    let exitCode = 0;
    let left = alive.length;
    if (left === 0) process.exit(0);
    for (const child of alive) {
      child.once('exit', (code) => {
        if (child === current && code) exitCode = code;
        if (--left === 0) process.exit(exitCode);
      });
      child.process.kill('SIGTERM');
    }
  });
}
