import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';

export interface NativeRedis {
  /** With the password: `redis://:<password>@127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The `default` user's password; a client without it gets NOAUTH. */
  password: string;
  /** redis-server itself, or the `docker run` that holds the Redis container (signals reach Redis). */
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface NativeRedisOptions {
  port: number;
  /** Where the append-only file lives; Redis runs with AOF on, as in production. */
  dataDir: string;
  /**
   * The password clients must give. By default the one kept in `dataDir` (file `password`, mode 600),
   * made at random on the first start: no other local user or process can use this Redis.
   */
  password?: string;
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

/** A command in Redis's protocol (RESP), whatever bytes its arguments hold. */
const resp = (...args: string[]) => `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;

/**
 * AUTH and PING over a fresh connection; resolves to Redis's answer to the PING (or to the AUTH when it
 * fails), or to what went wrong instead.
 */
function ping(port: number, password: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    const finish = (result: string) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1_000, () => finish('no answer'));
    socket.on('connect', () => socket.write(resp('AUTH', password) + resp('PING')));
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      const lines = answer.split('\r\n');
      if (lines[0] && lines[0] !== '+OK') finish(lines[0]);
      else if (lines.length > 2) finish(lines[1]!);
    });
    socket.on('error', (error) => finish(error.message));
    socket.on('close', () => finish('connection closed'));
  });
}

/**
 * Resolves once Redis answers PING on `port`. A TCP connection alone proves nothing with Docker: its port
 * proxy accepts connections before Redis listens in the container.
 */
export async function waitForPing(port: number, password: string, timeoutMs: number, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let answer = await ping(port, password); answer !== '+PONG'; answer = await ping(port, password)) {
    if (exited()) throw new Error(`Redis exited during start (port ${port})`);
    // Some other Redis on the port, or this one started without its configuration: never use it.
    if (answer.startsWith('-ERR AUTH')) throw new Error(`Redis on ${port} asks for no password (${answer.slice(0, 200)})`);
    if (Date.now() > deadline)
      throw new Error(`Redis did not answer PING on ${port} within ${timeoutMs} ms (last: ${answer.slice(0, 200)})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Settings BullMQ needs in production: AOF persistence, and never evict a key. */
const REDIS_ARGS = ['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', ''];

/** The name of the configuration file each start writes into the data directory. */
const CONFIG_FILE = 'redis.conf';

/**
 * The password `options` asks for, or the one kept in the data directory, made the first time. Then the
 * configuration file that makes it the `default` user's only password. That file holds its SHA-256 and
 * not the password, and it is written fresh at each start, never passed as an argument: `ps` shows
 * every process's arguments to every user of the machine.
 */
async function preparePassword(options: NativeRedisOptions): Promise<string> {
  await mkdir(options.dataDir, { recursive: true });
  const kept = join(options.dataDir, 'password');
  let password = options.password ?? (await readFile(kept, 'utf8').catch(() => undefined));
  if (!password) {
    password = randomBytes(24).toString('hex');
    await writeFile(kept, password, { mode: 0o600 });
  }
  const hash = createHash('sha256').update(password).digest('hex');
  await writeFile(join(options.dataDir, CONFIG_FILE), `user default reset on #${hash} ~* &* +@all\n`, { mode: 0o600 });
  return password;
}

async function supervise(child: ChildProcess, options: NativeRedisOptions, password: string, startTimeoutMs: number): Promise<NativeRedis> {
  const log = options.onLog;
  child.stdout?.on('data', (chunk: Buffer) => log?.(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => log?.(chunk.toString()));
  let gone = false;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve()); // the spawn itself failed
  }).then(() => void (gone = true));
  try {
    await waitForPing(options.port, password, startTimeoutMs, () => gone);
  } catch (error) {
    child.kill('SIGTERM');
    throw error;
  }
  return {
    url: `redis://:${encodeURIComponent(password)}@127.0.0.1:${options.port}`,
    port: options.port,
    password,
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
  const password = await preparePassword(options);
  const args = [join(options.dataDir, CONFIG_FILE), '--port', String(options.port), '--bind', '127.0.0.1', '--dir', options.dataDir];
  const child = spawn('redis-server', [...args, ...REDIS_ARGS], { stdio: ['ignore', 'pipe', 'pipe'] });
  return supervise(child, options, password, 10_000);
}

/**
 * Runs Redis in a container published on 127.0.0.1 only, with its data in `dataDir`, written as the
 * current user. The container runs attached (`docker run --rm`, signals proxied), so stopping the
 * process stops and removes the container, exactly like a redis-server child.
 */
export async function startRedisInDocker(options: NativeRedisOptions): Promise<NativeRedis> {
  const password = await preparePassword(options);
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
      `/data/${CONFIG_FILE}`,
      ...REDIS_ARGS,
      '--protected-mode',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // The first run may pull the image.
  return supervise(child, options, password, 300_000);
}
