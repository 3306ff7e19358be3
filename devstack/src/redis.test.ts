import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.js';
import { findRedis, redisInstallHelp, startRedisFrom } from './redis.js';

/** A folder to use as the whole PATH, holding executables that answer as named. */
async function pathWith(root: string, name: string, executables: Record<string, string>): Promise<string> {
  const dir = join(root, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  for (const [file, script] of Object.entries(executables)) {
    await writeFile(join(dir, file), `#!/bin/sh\n${script}\n`);
    await chmod(join(dir, file), 0o755);
  }
  return dir;
}

/** Where the native stack and the tests get Redis: REDIS_URL, redis-server, Docker, or advice. */
describe('finding Redis (devstack/src/redis.ts)', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'fibstack-find-redis-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('takes REDIS_URL first, even with redis-server on PATH', async () => {
    const PATH = await pathWith(scratch, 'redis', { 'redis-server': 'exit 0' });
    expect(findRedis({ PATH, REDIS_URL: 'redis://cache.internal:6379' })).toEqual({ kind: 'url', url: 'redis://cache.internal:6379' });
  });

  it('takes redis-server from PATH before Docker', async () => {
    const PATH = await pathWith(scratch, 'both', { 'redis-server': 'exit 0', docker: 'exit 0' });
    expect(findRedis({ PATH })).toEqual({ kind: 'redis-server' });
  });

  it('takes Docker when no redis-server is installed but an engine answers', async () => {
    const PATH = await pathWith(scratch, 'docker', { docker: '[ "$1" = version ] && exit 0; exit 1' });
    expect(findRedis({ PATH })).toEqual({ kind: 'docker' });
  });

  it('does not take a Docker CLI whose engine does not answer', async () => {
    const PATH = await pathWith(scratch, 'docker-down', {
      docker: 'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock" >&2; exit 1',
    });
    expect(findRedis({ PATH }, 'linux').kind).toBe('none');
  });

  it.each([
    ['linux', 'sudo apt-get install redis-server'],
    ['darwin', 'brew install redis'],
    ['win32', 'WSL'],
  ] as const)('says how to get Redis on %s when there is none', async (platform, advice) => {
    const PATH = await pathWith(scratch, 'empty', {});
    const found = findRedis({ PATH }, platform);
    expect(found).toEqual({ kind: 'none', help: redisInstallHelp(platform) });
    expect(redisInstallHelp(platform)).toContain(advice);
    expect(redisInstallHelp(platform)).toMatch(/REDIS_URL.*redis:\/\//);
    expect(() => startRedisFrom(found, { port: 1, dataDir: scratch })).toThrow(advice);
  });

  it('starts the redis-server found on this machine, with AOF on and no eviction', async () => {
    const redis = await startRedisFrom(findRedis({ ...process.env, REDIS_URL: '' }), {
      port: await freePort(),
      dataDir: join(scratch, 'data'),
    });
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      await client.connect();
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});

/** What `redis-cli` answers to PING on `port`, with the password in REDISCLI_AUTH when one is given. */
async function redisCliPing(port: number, password?: string): Promise<string> {
  const env = { PATH: process.env.PATH, ...(password ? { REDISCLI_AUTH: password } : {}) };
  const { stdout } = await promisify(execFile)('redis-cli', ['-p', String(port), 'ping'], { env });
  return stdout.trim();
}

describe('the Redis the native stack and the tests start', () => {
  let scratch: string;
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'fibstack-redis-auth-'));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('answers NOAUTH to a client without its password, and PONG with it', async () => {
    const redis = await startRedisFrom(findRedis({ ...process.env, REDIS_URL: '' }), {
      port: await freePort(),
      dataDir: join(scratch, 'a'),
    });
    try {
      expect(await redisCliPing(redis.port)).toBe('NOAUTH Authentication required.');
      expect(await redisCliPing(redis.port, 'postgres')).toBe('NOAUTH Authentication required.');
      expect(await redisCliPing(redis.port, redis.password)).toBe('PONG');
      expect(redis.url).toBe(`redis://:${redis.password}@127.0.0.1:${redis.port}`);
    } finally {
      await redis.stop();
    }
  });

  it('keeps a random password with its data (mode 600), shows it in no process argument, and reuses it at the next start', async () => {
    const dataDir = join(scratch, 'kept');
    const port = await freePort();
    const first = await startRedisFrom(findRedis({ ...process.env, REDIS_URL: '' }), { port, dataDir });
    let cmdline = '';
    try {
      cmdline = await readFile(`/proc/${first.process.pid}/cmdline`, 'utf8');
    } finally {
      await first.stop();
    }
    expect(first.password).toMatch(/^[0-9a-f]{48}$/);
    expect(await readFile(join(dataDir, 'password'), 'utf8')).toBe(first.password);
    expect((await stat(join(dataDir, 'password'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dataDir, 'redis.conf'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dataDir, 'redis.conf'), 'utf8')).not.toContain(first.password);
    expect(cmdline).not.toContain(first.password);

    const again = await startRedisFrom(findRedis({ ...process.env, REDIS_URL: '' }), { port, dataDir });
    try {
      expect(again.password).toBe(first.password);
      expect(await redisCliPing(port, first.password)).toBe('PONG');
    } finally {
      await again.stop();
    }
  });
});
