import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';

export interface NativeRedis {
  url: string;
  port: number;
  /** redis-server itself, or the `docker run` that holds the Redis container (signals reach Redis). */
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface NativeRedisOptions {
  port: number;
  /** Where the append-only file lives; Redis runs with AOF on, as in production. */
  dataDir: string;
  onLog?: (line: string) => void;
}

/** The image docker-compose.yml runs; used when Redis is not installed but Docker is. */
export const REDIS_IMAGE = 'redis:7-bookworm';

/** How the native stack gets its Redis, in order of preference. */
export type RedisSource = { kind: 'url'; url: string } | { kind: 'redis-server' } | { kind: 'docker' } | { kind: 'none'; help: string };

/** How to get Redis on each OS, for when there is none; REDIS_URL or Docker work everywhere. */
export function redisInstallHelp(platform: NodeJS.Platform = process.platform): string {
  const install =
    platform === 'darwin'
      ? 'brew install redis'
      : platform === 'win32'
        ? 'Redis has no native Windows build: run fibstack inside WSL (sudo apt-get install redis-server there) or start Docker Desktop'
        : 'sudo apt-get install redis-server (Debian/Ubuntu), sudo dnf install redis (Fedora), sudo pacman -S redis (Arch)';
  return (
    'No Redis: REDIS_URL is not set, redis-server is not on PATH, and no Docker engine answers. ' +
    `Install Redis (${install}), start Docker (Redis then runs in a container, ${REDIS_IMAGE}), ` +
    'or point REDIS_URL at a running Redis (redis://host:6379).'
  );
}

export function hasRedisServer(env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore', env }).status === 0;
}

/** True when a `docker` CLI is on PATH and an engine answers it. */
export function dockerAnswers(env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore', env, timeout: 15_000 }).status === 0;
}

/** REDIS_URL when set, else redis-server from PATH, else Redis in Docker, else advice for this OS. */
export function findRedis(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): RedisSource {
  if (env.REDIS_URL) return { kind: 'url', url: env.REDIS_URL };
  if (hasRedisServer(env)) return { kind: 'redis-server' };
  if (dockerAnswers(env)) return { kind: 'docker' };
  return { kind: 'none', help: redisInstallHelp(platform) };
}

/** One PING over a fresh connection; resolves to Redis's answer line, or to what went wrong instead. */
function ping(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const finish = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => finish('no answer'));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.includes('\r\n')) finish(answer.split('\r\n')[0]!);
    });
    socket.on('error', (error) => finish(error.message));
    socket.on('close', () => finish('connection closed'));
  });
}

/**
 * Resolves once Redis answers PING on `port`. A TCP connection alone proves nothing with Docker: its port
 * proxy accepts connections before Redis listens in the container.
 */
async function waitForPing(port: number, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let answer = await ping(port); answer !== '+PONG'; answer = await ping(port)) {
    if (exited()) throw new Error(`Redis exited during start (port ${port})`);
    if (Date.now() > deadline)
      throw new Error(`Redis did not answer PING on ${port} within ${timeoutMs} ms (last: ${answer.slice(0, 200)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Settings BullMQ needs in production: AOF persistence, and never evict a key. */
const REDIS_ARGS = ['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''];

async function supervise(child: ChildProcess, options: NativeRedisOptions, startTimeoutMs: number): Promise<NativeRedis> {
  const log = options.onLog;
  child.stdout?.on('data', (chunk: Buffer) => log?.(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => log?.(chunk.toString()));
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // the spawn itself failed
  }).then(() => void (gone = true));
  try {
    await waitForPing(options.port, startTimeoutMs, () => gone);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${options.port}`,
    port: options.port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Starts a Redis of our own from `source`: redis-server, or a container; throws the advice when there is none. */
export function startRedisFrom(source: RedisSource, options: NativeRedisOptions): Promise<NativeRedis> {
  if (source.kind === 'none') throw new Error(source.help);
  if (source.kind === 'url') throw new Error(`Redis at ${source.url} is not ours to start`);
  return source.kind === 'docker' ? startRedisInDocker(options) : startRedis(options);
}

/** Spawns `redis-server` from PATH on 127.0.0.1. */
export async function startRedis(options: NativeRedisOptions): Promise<NativeRedis> {
  if (!hasRedisServer()) throw new Error(redisInstallHelp());
  await mkdir(options.dataDir, { recursive: true });
  const child = spawn('redis-server', ['--port', String(options.port), '--bind', '127.0.0.1', '--dir', options.dataDir, ...REDIS_ARGS], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return supervise(child, options, 10_000);
}

/**
 * Runs Redis in a container published on 127.0.0.1 only, with its data in `dataDir`, written as the
 * current user. The container runs attached (`docker run --rm`, signals proxied), so stopping the
 * process stops and removes the container, exactly like a redis-server child.
 */
export async function startRedisInDocker(options: NativeRedisOptions): Promise<NativeRedis> {
  await mkdir(options.dataDir, { recursive: true });
  // As the current user, and past the image's entrypoint, which would hand the files to its `redis` user.
  const user = process.getuid && process.getgid ? ['--user', `${process.getuid()}:${process.getgid()}`] : [];
  const child = spawn(
    'docker',
    [
      'run',
      '--rm',
      '--name',
      `fibstack-native-redis-${options.port}`,
      '-p',
      `127.0.0.1:${options.port}:6379`,
      '-v',
      `${options.dataDir}:/data`,
      '-w',
      '/data',
      ...user,
      '--entrypoint',
      'redis-server',
      // Docker's port proxy is not loopback to Redis; the port is published on the host's loopback only.
      REDIS_IMAGE,
      ...REDIS_ARGS,
      '--protected-mode',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // The first run may pull the image.
  return supervise(child, options, 300_000);
}
