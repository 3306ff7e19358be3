import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';

export interface NativeRedis {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface NativeRedisOptions {
  port: number;
  /** Where the append-only file lives; Redis runs with AOF on, as in production. */
  dataDir: string;
  onLog?: (line: string) => void;
}

export const REDIS_MISSING_HELP =
  'redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install redis-server; ' +
  'macOS: brew install redis) or point REDIS_URL at a running Redis.';

export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve();
      });
      socket.on('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/**
 * Spawns `redis-server` from PATH on 127.0.0.1 with the settings BullMQ needs in production
 * (AOF persistence, `maxmemory-policy noeviction`).
 */
export async function startRedis(options: NativeRedisOptions): Promise<NativeRedis> {
  if (!hasRedisServer()) throw new Error(REDIS_MISSING_HELP);
  await mkdir(options.dataDir, { recursive: true });
  const child = spawn(
    'redis-server',
    [
      '--port', String(options.port),
      '--bind', '127.0.0.1',
      '--dir', options.dataDir,
      '--appendonly', 'yes',
      '--maxmemory-policy', 'noeviction',
      '--save', '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const log = options.onLog;
  child.stdout?.on('data', (chunk: Buffer) => log?.(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => log?.(chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await Promise.race([
    waitForPort(options.port, 10_000),
    exited.then(() => Promise.reject(new Error(`redis-server exited during start (port ${options.port})`))),
  ]);
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
