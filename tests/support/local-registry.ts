import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@fibstack/devstack/testkit';

/** A free loopback port, as the kernel hands one out. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface LocalRegistry {
  /** host:port, the registry part of the image names pushed to it. */
  host: string;
  /** Stops the registry and removes its storage. */
  stop(): Promise<void>;
}

/**
 * A real OCI registry (Debian's `docker-registry`, distribution 2.8) on a loopback port, its storage in a
 * temporary folder. Docker pushes to it over plain HTTP, as it allows for 127.0.0.0/8.
 */
export async function startRegistry(): Promise<LocalRegistry> {
  if (spawnSync('sh', ['-c', 'command -v docker-registry']).status !== 0) {
    throw new Error('docker-registry is not installed: apt-get install docker-registry (Debian, distribution 2.8)');
  }
  const dir = mkdtempSync(join(tmpdir(), 'fibstack-registry-'));
  const port = await freePort();
  const config = join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog: { level: warn }\nstorage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }\nhttp: { addr: 127.0.0.1:${port} }\n`,
  );
  const registry: ChildProcess = spawn('docker-registry', ['serve', config], { cwd: '/', stdio: 'ignore' });
  const exited = new Promise((resolve) => registry.once('exit', resolve));
  const host = `127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`http://${host}/v2/`)).status === 200, 30_000, 'the local registry', {
    intervalMs: 250,
    attemptMs: 10_000,
  });
  return {
    host,
    async stop() {
      registry.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
