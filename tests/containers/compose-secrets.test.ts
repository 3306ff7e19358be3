import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, docker, eventually, provisionBaseImages, type ComposeProject } from './docker.js';

/**
 * The passwords docker-compose.yml makes (x-make-secrets) and how Postgres and Redis take them, with the
 * stores alone: `up postgres redis` builds nothing. The whole app on those passwords is in compose.test.ts.
 */
const project: ComposeProject = { name: 'fibstack-secrets-test', files: ['docker-compose.yml'], env: { POSTGRES_PASSWORD: '' } };
const volume = (name: string) => `${project.name}_${name}`;

/** `cat` (or another command) on the files of one of the project's volumes, as root. */
const inVolume = (name: string, command: string) =>
  docker(['run', '--rm', '-v', `${volume(name)}:/v:ro`, 'redis:7-bookworm', 'sh', '-c', command]);

/** Whether `password` lets the database user in over the project's network, as the services connect. */
async function signsIn(password: string): Promise<boolean> {
  const psql = ['run', '--rm', '--network', `${project.name}_default`, '-e', `PGPASSWORD=${password}`, 'postgres:17-bookworm'];
  try {
    return (await docker([...psql, 'psql', '-h', 'postgres', '-U', 'fibstack', '-d', 'fibstack', '-tAc', 'SELECT 1'])) === '1';
  } catch {
    return false;
  }
}

async function storesUp(env: Record<string, string> = {}): Promise<void> {
  const run = { ...project, env: { ...project.env, ...env } };
  // Recreated, as a changed .env would have them: `secrets` runs again before the stores start.
  await compose(run, ['up', '-d', '--force-recreate', 'postgres', 'redis']);
  for (const store of ['postgres', 'redis']) {
    const container = (await compose(run, ['ps', '-q', store])).trim();
    await eventually(
      async () => (await docker(['inspect', '-f', '{{.State.Health.Status}}', container])) === 'healthy',
      120_000,
      `${store} healthy`,
    );
  }
}

describe('the passwords docker-compose.yml makes', () => {
  beforeAll(async () => {
    await provisionBaseImages();
    await compose(project, ['down', '-v', '--remove-orphans']);
  });
  afterAll(async () => {
    await compose(project, ['down', '-v', '--remove-orphans']).catch(() => undefined);
  });

  it('gives a database made with the former default password (fibstack) the made one at its first start', async () => {
    // As the compose file made every database before: POSTGRES_PASSWORD defaulted to `fibstack`.
    await docker(['volume', 'create', volume('postgres-data')]);
    const old = await docker([
      'run',
      '-d',
      '-v',
      `${volume('postgres-data')}:/var/lib/postgresql/data`,
      '-e',
      'POSTGRES_USER=fibstack',
      '-e',
      'POSTGRES_PASSWORD=fibstack',
      '-e',
      'POSTGRES_DB=fibstack',
      'postgres:17-bookworm',
    ]);
    try {
      await eventually(
        async () => (await docker(['exec', old, 'pg_isready', '-h', '127.0.0.1']).catch(() => '')).includes('accepting'),
        120_000,
        'the old Postgres',
      );
    } finally {
      await docker(['stop', old]);
      await docker(['rm', old]);
    }

    await storesUp();
    const made = await inVolume('secrets-server', 'cat /v/postgres-password');
    expect(made).toMatch(/^[0-9a-f]{64}$/);
    expect(await signsIn(made)).toBe(true);
    expect(await signsIn('fibstack')).toBe(false);
  });

  it('keeps each password in the volume of the service that uses it, readable by that service’s user only', async () => {
    const listing = async (name: string) => (await inVolume(name, "stat -c '%n %u %a' /v/*")).split('\n').sort();
    expect(await listing('secrets-postgres')).toEqual(['/v/postgres-password 0 600']);
    expect(await listing('secrets-server')).toEqual(['/v/postgres-password 1000 600', '/v/redis-server-password 1000 600']);
    expect(await listing('secrets-worker')).toEqual(['/v/postgres-password 1000 600', '/v/redis-worker-password 1000 600']);
    expect(await listing('secrets-redis')).toEqual(['/v/redis-healthcheck-password 0 600', '/v/redis-users.acl 999 600']);
    // Redis holds only their hashes.
    const acl = await inVolume('secrets-redis', 'cat /v/redis-users.acl');
    expect(acl).not.toContain(await inVolume('secrets-server', 'cat /v/redis-server-password'));
    expect(acl).not.toContain(await inVolume('secrets-worker', 'cat /v/redis-worker-password'));
  });

  it('makes them once: the same after the stores are made again', async () => {
    const before = await inVolume('secrets-server', 'cat /v/*');
    await storesUp();
    expect(await inVolume('secrets-server', 'cat /v/*')).toBe(before);
  });

  it('answers NOAUTH to a Redis client without a password, and lets the health check only PING', async () => {
    expect(await compose(project, ['exec', '-T', 'redis', 'redis-cli', 'ping'])).toContain('NOAUTH Authentication required.');
    const asHealthCheck = (command: string) =>
      compose(project, [
        'exec',
        '-T',
        'redis',
        'sh',
        '-c',
        `REDISCLI_AUTH="$(cat /run/secrets/fibstack/redis-healthcheck-password)" redis-cli --user healthcheck ${command}`,
      ]);
    expect(await asHealthCheck('ping')).toContain('PONG');
    expect(await asHealthCheck('get bull:fibonacci:id')).toContain('NOPERM');
  });

  it('uses POSTGRES_PASSWORD when it is set, from the next start of Postgres on', async () => {
    await storesUp({ POSTGRES_PASSWORD: 'chosen-in-dot-env' });
    expect(await inVolume('secrets-server', 'cat /v/postgres-password')).toBe('chosen-in-dot-env');
    expect(await signsIn('chosen-in-dot-env')).toBe(true);
  });
});
