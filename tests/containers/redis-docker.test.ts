import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@fibstack/devstack/ports';
import { findRedis, startRedisFrom } from '@fibstack/devstack/redis';
import { docker, provisionBaseImages } from './docker.js';

/** `npm start` on a laptop with Docker but no Redis installed: Redis runs in a container (devstack/src/redis.ts). */
describe('Redis in Docker for the native stack', () => {
  let scratch: string;

  beforeAll(async () => {
    await provisionBaseImages();
    scratch = await mkdtemp(join(tmpdir(), 'fibstack-redis-docker-'));
  });

  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it('is chosen when only Docker is on PATH, answers on loopback to its password only, writes as the user, and goes away on stop', async () => {
    const onlyDocker = join(scratch, 'bin');
    await mkdir(onlyDocker);
    await symlink(execFileSync('sh', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim(), join(onlyDocker, 'docker'));
    const source = findRedis({ ...process.env, PATH: onlyDocker, REDIS_URL: '' });
    expect(source).toEqual({ kind: 'docker' });

    const port = await freePort();
    const dataDir = join(scratch, 'data');
    const redis = await startRedisFrom(source, { port, dataDir });
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      await client.connect();
      await client.set('fibstack', '55');
      expect(await client.get('fibstack')).toBe('55');
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      // Its password is asked of every client, in the container too.
      expect(await docker(['exec', `fibstack-native-redis-${port}`, 'redis-cli', 'ping'])).toBe('NOAUTH Authentication required.');
      const published = await docker(['port', `fibstack-native-redis-${port}`, '6379']);
      expect(published.split('\n')).toEqual([`127.0.0.1:${port}`]);
    } finally {
      client.disconnect();
      await redis.stop();
    }
    const written = readdirSync(dataDir, { recursive: true }).map((file) => join(dataDir, String(file)));
    expect(written.length).toBeGreaterThan(0);
    for (const file of written) expect(statSync(file).uid).toBe(process.getuid!());
    expect(await docker(['ps', '-aq', '--filter', `name=fibstack-native-redis-${port}`])).toBe('');
  });
});
