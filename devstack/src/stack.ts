import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { startPostgres, type NativePostgres } from './postgres.js';
import { findRedis, startRedisFrom, type NativeRedis } from './redis.js';
import { startRedisCluster, type NativeRedisCluster } from './redis-cluster.js';

/** The repository root, from devstack/dist or devstack/src. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface NativeStackOptions {
  /** Port the app is served on (built client + /api, or the Vite dev server in dev mode). */
  port: number;
  /** Address the app listens on: 127.0.0.1 unless given (0.0.0.0 serves every interface). */
  host?: string;
  /** Where Postgres and Redis keep their data. */
  dataDir: string;
  /** Keep the data between runs (npm start) or throw it away (tests, benchmark). */
  persistent: boolean;
  /** Hot reload: Vite dev server, and server and worker restarted on change (scripts/dev/hot-restart.mjs). */
  dev?: boolean;
  /** Use this Redis; otherwise redis-server from PATH, or Redis in Docker (see findRedis). */
  redisUrl?: string;
  /**
   * Run a Redis Cluster of redis-server processes instead of one Redis (each master with its replicas),
   * and the services with REDIS_CLUSTER=true against it.
   */
  redisCluster?: { masters?: number; replicasPerMaster?: number };
  /**
   * How many processes of each service to run (1 each unless given). Several servers listen on the same
   * port, each on a loopback address of its own (SERVER_REPLICA_ADDRESSES): what a name that resolves to
   * all of them, as a container platform's DNS does, lets a proxy balance over (tests/support/dns.ts).
   */
  replicas?: Partial<Record<ServiceName, number>>;
  /** Extra environment for the server and the worker (MAX_INDEX, LOG_LEVEL, …). */
  env?: Record<string, string>;
  /** Extra environment for one service only (a worker's HEALTH_PORT, a per-service OTEL_* setting). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Where service output goes: the terminal with a name prefix, or one log file per service. */
  output: 'terminal' | { logDir: string };
}

export interface NativeStack {
  url: string;
  /** The first server; `serverUrls` lists every replica's. */
  serverUrl: string;
  serverUrls: string[];
  databaseUrl: string;
  redisUrl: string;
  postgres: NativePostgres;
  redis?: NativeRedis;
  redisCluster?: NativeRedisCluster;
  /** Starts (or restarts after `stopService`) the server or the worker (replica 0 unless given). */
  startService(name: ServiceName, replica?: number): Promise<void>;
  /** Stops one service with a signal and waits for it to exit; resolves to its exit code. */
  stopService(name: ServiceName, signal?: NodeJS.Signals, replica?: number): Promise<number | null>;
  /** The OS process id of a running service (to read its memory, for instance). */
  pid(name: ServiceName, replica?: number): number | undefined;
  /**
   * Settles with a sentence when a process of the stack (server, worker, Vite, Redis) exits without having
   * been stopped: whoever started the stack should then stop it, rather than serve half an app.
   */
  failed: Promise<string>;
  stop(): Promise<void>;
}

export type ServiceName = 'server' | 'worker';

/**
 * Where server replica i listens when there are several (all on the same port): 127.0.1.(i+1). Linux
 * routes all of 127.0.0.0/8 to the loopback interface, so nothing has to be configured for them.
 */
export const SERVER_REPLICA_ADDRESSES = (replicas: number) => Array.from({ length: replicas }, (_, i) => `127.0.1.${i + 1}`);

/** The server's heap settings, as its image runs it (see server/Dockerfile). */
export const SERVER_NODE_FLAGS = ['--max-old-space-size=128', '--heap-growing-percent=100'];

interface ServiceSpec {
  command: string[];
  env: Record<string, string>;
}

const node = process.execPath;
/** Starts OpenTelemetry before the app when OTEL_EXPORTER_OTLP_ENDPOINT is set; does nothing otherwise. */
const TRACING_PRELOAD = ['--import', '@fibstack/service-kit/tracing/preload'];
/** Dev mode runs TypeScript sources, the shared workspaces included (their `development` export). */
const fromSource = ['--conditions=development', '--import', 'tsx'];
const hotRestart = join(REPO_ROOT, 'scripts/dev/hot-restart.mjs');

/** Runs a command to completion with the stack's environment; rejects with its output on failure. */
function runToCompletion(command: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command as [string, ...string[]];
    const child = spawn(file, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(' ')} failed:\n${output}`))));
  });
}

/** Resolves once `url` answers 2xx; rejects as soon as `child` (the process that should answer) exits. */
function waitForHttp(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        return reject(new Error(`process exited (${child.signalCode ?? `code ${child.exitCode}`}) before ${url} answered`));
      }
      try {
        const response = await fetch(url);
        if (response.ok) return resolve();
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) return reject(new Error(`${url} did not answer within ${timeoutMs} ms`));
      setTimeout(() => void attempt(), 100);
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
 * Starts the whole app natively: embedded Postgres, Redis (REDIS_URL, redis-server or Docker), migrations,
 * the API server and the worker as child processes, and — in dev mode — the Vite dev server. Production
 * mode serves the built client from the API server (STATIC_DIR), so one port carries the app and `/api`.
 */
export async function startNativeStack(options: NativeStackOptions): Promise<NativeStack> {
  const redisSource = options.redisUrl ? { kind: 'url' as const, url: options.redisUrl } : findRedis({ ...process.env, REDIS_URL: '' });
  if (redisSource.kind === 'none') throw new Error(redisSource.help);
  const host = options.host ?? '127.0.0.1';
  /** Where this process reaches a listener on `host`. */
  const local = ['0.0.0.0', '::'].includes(host) ? '127.0.0.1' : host;
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

  let stopping = false;
  let fail: (reason: string) => void = () => undefined;
  const failed = new Promise<string>((resolve) => (fail = resolve));
  /** Reports `child` exiting on its own, unless the stack (or `isStopped`) stopped it. */
  const watchExit = (name: string, child: ChildProcess, isStopped: () => boolean = () => false) =>
    child.once('exit', (code, signal) => {
      if (!stopping && !isStopped()) fail(`${name} exited (${signal ?? `code ${code}`})`);
    });

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
    const redisOptions = {
      port: await freePort(),
      dataDir: join(options.dataDir, 'redis'),
      onLog: (line: string) => redisLog(Buffer.from(line)),
    };
    const redisCluster = options.redisCluster
      ? await startRedisCluster({
          ...options.redisCluster,
          dataDir: join(options.dataDir, 'redis-cluster'),
          onLog: (line) => redisLog(Buffer.from(line)),
        })
      : undefined;
    if (redisCluster) cleanups.unshift(() => redisCluster.stop());
    const redis = redisSource.kind === 'url' || redisCluster ? undefined : await startRedisFrom(redisSource, redisOptions);
    if (redis) {
      cleanups.unshift(() => redis.stop());
      watchExit('redis', redis.process);
    }
    const redisUrl = redisCluster?.url ?? (redisSource.kind === 'url' ? redisSource.url : redis!.url);

    const dev = Boolean(options.dev);
    const serverPort = dev ? await freePort() : options.port;
    const shared = { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, ...(redisCluster && { REDIS_CLUSTER: 'true' }), ...options.env };
    const replicas = { server: options.replicas?.server ?? 1, worker: options.replicas?.worker ?? 1 };
    if (dev && (replicas.server > 1 || replicas.worker > 1)) throw new Error('dev mode runs one process of each service');
    /** Replica i's address: `host` for a single server; the replica addresses otherwise. */
    const serverHost = (replica: number) =>
      replicas.server > 1 ? SERVER_REPLICA_ADDRESSES(replicas.server)[replica]! : dev ? '127.0.0.1' : host;
    await runToCompletion(dev ? [node, ...fromSource, 'server/src/migrate.ts'] : [node, 'server/dist/migrate.js'], shared);

    const specs = (replica: number): Record<ServiceName, ServiceSpec> => ({
      server: {
        // The same heap flags as the server's image (see server/Dockerfile).
        command: dev
          ? [node, hotRestart, '--overlap', 'server/src/main.ts']
          : [node, ...SERVER_NODE_FLAGS, ...TRACING_PRELOAD, 'server/dist/main.js'],
        env: {
          ...shared,
          PORT: String(serverPort),
          // In dev mode only Vite talks to the API, on loopback.
          HOST: serverHost(replica),
          // Nothing balances in front of it: hot-restart hands the port over before the old process stops.
          ...(dev ? { SHUTDOWN_DRAIN_MS: '0' } : { STATIC_DIR: join(REPO_ROOT, 'client/dist') }),
          ...options.serviceEnv?.server,
        },
      },
      worker: {
        command: dev ? [node, hotRestart, 'worker/src/main.ts'] : [node, ...TRACING_PRELOAD, 'worker/dist/main.js'],
        env: { ...shared, ...options.serviceEnv?.worker },
      },
    });
    const running = new Map<string, ChildProcess>();
    const key = (name: ServiceName, replica: number) => `${name}#${replica}`;
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

    const serverUrls = Array.from({ length: replicas.server }, (_, i) => {
      const address = serverHost(i);
      return `http://${['0.0.0.0', '::'].includes(address) ? '127.0.0.1' : address}:${serverPort}`;
    });
    const each = (name: ServiceName) => Array.from({ length: replicas[name] }, (_, i) => i);
    const startService = async (name: ServiceName, replica = 0) => {
      // Replica 0 keeps the plain name in logs (server.log), as a stack of one always had.
      const label = replica === 0 ? name : `${name}-${replica + 1}`;
      const child = spawnService(label, specs(replica)[name]);
      running.set(key(name, replica), child);
      watchExit(label, child, () => running.get(key(name, replica)) !== child);
      if (name === 'server') await waitForHttp(`${serverUrls[replica]}/readyz`, 60_000, child);
    };
    const stopService = async (name: ServiceName, signal?: NodeJS.Signals, replica = 0) => {
      const child = running.get(key(name, replica));
      running.delete(key(name, replica));
      return child ? stopChild(child, signal) : null;
    };
    cleanups.unshift(async () => {
      await Promise.all((['server', 'worker'] as const).flatMap((name) => each(name).map((i) => stopService(name, undefined, i))));
    });

    await Promise.all((['server', 'worker'] as const).flatMap((name) => each(name).map((i) => startService(name, i))));
    const serverUrl = serverUrls[0]!;
    // Several servers have no one address of their own: whoever balances them is the app's front.
    const url = replicas.server > 1 ? serverUrl : `http://${local}:${options.port}`;
    if (dev) {
      const vite = spawnService('client', {
        command: [
          node,
          join(REPO_ROOT, 'node_modules/vite/bin/vite.js'),
          'client',
          '--host',
          host,
          '--port',
          String(options.port),
          '--strictPort',
        ],
        env: { API_PROXY_TARGET: serverUrl },
      });
      watchExit('the Vite dev server', vite);
      cleanups.unshift(async () => void (await stopChild(vite)));
      await waitForHttp(`${url}/`, 60_000, vite);
    }

    return {
      url,
      serverUrl,
      serverUrls,
      databaseUrl,
      redisUrl,
      postgres,
      redis,
      redisCluster,
      startService,
      stopService,
      pid: (name, replica = 0) => running.get(key(name, replica))?.pid,
      failed,
      async stop() {
        stopping = true;
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
        for (const stream of logStreams) stream.end();
      },
    };
  } catch (error) {
    stopping = true;
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}
