import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { startPostgres, type NativePostgres } from './postgres.js';
import { startRedis, type NativeRedis } from './redis.js';

/** The repository root, from devstack/dist or devstack/src. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface NativeStackOptions {
  /** Port the app is served on (built client + /api, or the Vite dev server in dev mode). */
  port: number;
  /** Where Postgres and Redis keep their data. */
  dataDir: string;
  /** Keep the data between runs (npm start) or throw it away (tests, benchmark). */
  persistent: boolean;
  /** Hot reload: Vite dev server, and server and worker under `tsx watch`. */
  dev?: boolean;
  /** Use this Redis instead of spawning redis-server. */
  redisUrl?: string;
  /** Extra environment for the server and the worker (MAX_INDEX, LOG_LEVEL, …). */
  env?: Record<string, string>;
  /** Where service output goes: the terminal with a name prefix, or one log file per service. */
  output: 'terminal' | { logDir: string };
}

export interface NativeStack {
  url: string;
  serverUrl: string;
  databaseUrl: string;
  redisUrl: string;
  postgres: NativePostgres;
  redis?: NativeRedis;
  /** Starts (or restarts after `stopService`) the server or the worker. */
  startService(name: ServiceName): Promise<void>;
  /** Stops one service with a signal and waits for it to exit; resolves to its exit code. */
  stopService(name: ServiceName, signal?: NodeJS.Signals): Promise<number | null>;
  /** The OS process id of a running service (to read its memory, for instance). */
  pid(name: ServiceName): number | undefined;
  stop(): Promise<void>;
}

export type ServiceName = 'server' | 'worker';

/** The server's heap settings, as its image runs it (see server/Dockerfile). */
export const SERVER_NODE_FLAGS = ['--max-old-space-size=128', '--heap-growing-percent=100'];

interface ServiceSpec {
  command: string[];
  env: Record<string, string>;
}

const node = process.execPath;
const tsx = join(REPO_ROOT, 'node_modules/.bin/tsx');

/** Runs a command to completion with the stack's environment; rejects with its output on failure. */
function runToCompletion(command: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command as [string, ...string[]];
    const child = spawn(file, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(' ')} failed:\n${output}`))));
  });
}

function waitForHttp(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = async () => {
      if (child.exitCode !== null) return reject(new Error(`process exited (code ${child.exitCode}) before ${url} answered`));
      try {
        const response = await fetch(url);
        if (response.ok) return resolve();
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) return reject(new Error(`${url} did not answer within ${timeoutMs} ms`));
      setTimeout(attempt, 100);
    };
    void attempt();
  });
}

function prefixLines(name: string, sink: NodeJS.WritableStream) {
  let pending = '';
  return (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) sink.write(`[${name}] ${line}\n`);
  };
}

/**
 * Starts the whole app natively: embedded Postgres, redis-server (or REDIS_URL), migrations, the API
 * server and the worker as child processes, and — in dev mode — the Vite dev server. Production mode
 * serves the built client from the API server (STATIC_DIR), so one port carries the app and `/api`.
 */
export async function startNativeStack(options: NativeStackOptions): Promise<NativeStack> {
  await mkdir(options.dataDir, { recursive: true });
  // Run as root, Postgres runs as its own OS user, which must be able to reach its data directory.
  await chmod(options.dataDir, 0o755);
  const logDir = options.output === 'terminal' ? undefined : options.output.logDir;
  if (logDir) await mkdir(logDir, { recursive: true });
  const logStreams: WriteStream[] = [];
  const sinkFor = (name: string) => {
    if (!logDir) return prefixLines(name, process.stdout);
    const stream = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    logStreams.push(stream);
    return (chunk: Buffer) => stream.write(chunk);
  };

  const postgresLog = sinkFor('postgres');
  const postgres = await startPostgres({
    dataDir: join(options.dataDir, 'postgres'),
    port: await freePort(),
    persistent: options.persistent,
    onLog: (message) => postgresLog(Buffer.from(`${String(message).trimEnd()}\n`)),
  });
  const cleanups: Array<() => Promise<void>> = [() => postgres.stop()];
  try {
    const databaseUrl = await postgres.createDatabase('fibstack');
    const redisLog = sinkFor('redis');
    const redis = options.redisUrl
      ? undefined
      : await startRedis({
          port: await freePort(),
          dataDir: join(options.dataDir, 'redis'),
          onLog: (line) => redisLog(Buffer.from(line)),
        });
    if (redis) cleanups.unshift(() => redis.stop());
    const redisUrl = options.redisUrl ?? redis!.url;

    const serverPort = options.dev ? await freePort() : options.port;
    const shared = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, ...options.env };
    const dev = Boolean(options.dev);
    await runToCompletion(dev ? [tsx, 'server/src/migrate.ts'] : [node, 'server/dist/migrate.js'], shared);

    const specs: Record<ServiceName, ServiceSpec> = {
      server: {
        command: dev ? [tsx, 'watch', 'server/src/main.ts'] : [node, ...SERVER_NODE_FLAGS, 'server/dist/main.js'],
        env: { ...shared, PORT: String(serverPort), ...(dev ? {} : { STATIC_DIR: join(REPO_ROOT, 'client/dist') }) },
      },
      worker: {
        command: dev ? [tsx, 'watch', 'worker/src/main.ts'] : [node, 'worker/dist/main.js'],
        env: shared,
      },
    };
    const running = new Map<ServiceName, ChildProcess>();
    const spawnService = (name: string, spec: ServiceSpec) => {
      const [file, ...args] = spec.command as [string, ...string[]];
      const child = spawn(file, args, {
        cwd: REPO_ROOT,
        env: { ...process.env, ...spec.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const sink = sinkFor(name);
      child.stdout?.on('data', sink);
      child.stderr?.on('data', sink);
      return child;
    };
    const stopChild = (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<number | null>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill(signal);
      });

    const serverUrl = `http://127.0.0.1:${serverPort}`;
    const startService = async (name: ServiceName) => {
      const child = spawnService(name, specs[name]);
      running.set(name, child);
      if (name === 'server') await waitForHttp(`${serverUrl}/readyz`, 60_000, child);
    };
    const stopService = async (name: ServiceName, signal?: NodeJS.Signals) => {
      const child = running.get(name);
      running.delete(name);
      return child ? stopChild(child, signal) : null;
    };
    cleanups.unshift(async () => {
      await Promise.all([stopService('server'), stopService('worker')]);
    });

    await Promise.all([startService('server'), startService('worker')]);
    if (dev) {
      const vite = spawnService('client', {
        command: [node, join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'client', '--port', String(options.port), '--strictPort'],
        env: { API_PROXY_TARGET: serverUrl },
      });
      cleanups.unshift(async () => void (await stopChild(vite)));
      await waitForHttp(`http://127.0.0.1:${options.port}/`, 60_000, vite);
    }

    return {
      url: `http://127.0.0.1:${options.port}`,
      serverUrl,
      databaseUrl,
      redisUrl,
      postgres,
      redis,
      startService,
      stopService,
      pid: (name) => running.get(name)?.pid,
      async stop() {
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
        for (const stream of logStreams) stream.end();
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}
