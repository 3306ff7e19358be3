import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, REPO_ROOT } from './docker.js';
import { startRegistry, type LocalRegistry } from '../support/local-registry.js';

const run = promisify(execFile);
const SERVICES = ['client', 'server', 'worker', 'nginx'] as const;
const dir = mkdtempSync(join(tmpdir(), 'fibstack-push-'));
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A one-file tar (ustar), as an image layer carries files. */
function tarOf(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${content.length.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write(' '.repeat(8), 148);
  header.write('0', 156);
  header.write('ustar\u000000', 257);
  const checksum = [...header].reduce((sum, byte) => sum + byte, 0);
  header.write(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  return Buffer.concat([header, content, Buffer.alloc((512 - (content.length % 512)) % 512), Buffer.alloc(1024)]);
}

/**
 * Writes `DIR/<service>.tar`: an OCI image layout for linux/amd64 and linux/arm64 (an image index of two images
 * of one file each), as `docker buildx build --output type=oci,dest=…` writes one. Returns the index's digest.
 */
function exportLayout(outDir: string, service: string, content: string, { dropBlob = false } = {}): string {
  const root = mkdtempSync(join(dir, `${service}-`));
  mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Buffer) => {
    const digest = sha256(bytes);
    writeFileSync(join(root, 'blobs', 'sha256', digest.slice('sha256:'.length)), bytes);
    return { digest, size: bytes.length };
  };
  const manifests = ['amd64', 'arm64'].map((architecture) => {
    const files = tarOf('service.txt', Buffer.from(`${content} (${architecture})\n`));
    const layer = put(gzipSync(files));
    const config = put(
      Buffer.from(JSON.stringify({ architecture, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(files)] } })),
    );
    if (dropBlob && architecture === 'arm64') unlinkSync(join(root, 'blobs', 'sha256', layer.digest.slice('sha256:'.length)));
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
        }),
      ),
    );
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, platform: { architecture, os: 'linux' } };
  });
  const index = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests })));
  writeFileSync(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(root, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...index }] }),
  );
  mkdirSync(outDir, { recursive: true });
  execFileSync('tar', ['-cf', join(outDir, `${service}.tar`), '-C', root, '.']);
  rmSync(root, { recursive: true, force: true });
  return index.digest;
}

/** Runs one of the scripts from the repository root; returns its exit status and output. */
async function script(name: string, args: string[]) {
  try {
    const { stdout, stderr } = await run('node', [`scripts/${name}`, ...args], { cwd: REPO_ROOT });
    return { status: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { status: failure.code, output: failure.stdout + failure.stderr };
  }
}

/**
 * scripts/push-images.mjs (what `scripts/release-images push` runs in CI's push job) against a real registry
 * (distribution 2.8 on a loopback port): the OCI layouts a build exported go to the registry byte for byte, so
 * the digest recorded for the deploys is the digest of the layout that was built and tested, and Docker pulls
 * the image by it.
 */
describe('push-images: the exported build, pushed as built and recorded by digest', () => {
  let registry: LocalRegistry;
  const pulled: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
  });

  afterAll(async () => {
    for (const image of pulled) await docker(['rmi', image]).catch(() => undefined);
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes each layout under the tag and records registry/name@<the layout’s own digest>, which Docker pulls', async () => {
    const oci = join(dir, 'oci');
    const built = Object.fromEntries(SERVICES.map((service) => [service, exportLayout(oci, service, `${service} build 1`)]));
    const images = join(dir, 'images.json');
    const pushed = await script('push-images.mjs', ['--registry', registry.host, '--tag', 'abc123', '--from', oci, '--images', images]);
    expect(pushed.status, pushed.output).toBe(0);
    const recorded = JSON.parse(readFileSync(images, 'utf8')) as Record<string, string>;
    expect(recorded).toEqual(
      Object.fromEntries(SERVICES.map((service) => [service, `${registry.host}/fibstack-${service}@${built[service]}`])),
    );
    // The tag names the same index, and the registry serves it under its digest.
    const head = await fetch(`http://${registry.host}/v2/fibstack-server/manifests/abc123`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.oci.image.index.v1+json' },
    });
    expect(head.headers.get('docker-content-digest')).toBe(built.server);
    // A real client takes it: Docker pulls this machine's platform by the recorded digest and finds the file.
    await docker(['pull', '-q', recorded.worker!]);
    pulled.push(recorded.worker!);
    const inspected = JSON.parse(await docker(['image', 'inspect', recorded.worker!])) as Array<{
      RepoDigests: string[];
      RootFS: { Layers: string[] };
    }>;
    expect(inspected[0]!.RepoDigests).toContain(recorded.worker);
    expect(inspected[0]!.RootFS.Layers).toHaveLength(1);
  });

  it('pushes nothing when one export is missing or broken, and records nothing', async () => {
    const oci = join(dir, 'broken');
    for (const service of ['client', 'server', 'worker']) exportLayout(oci, service, `${service} build 2`);
    const images = join(dir, 'broken.json');
    const args = ['--registry', registry.host, '--tag', 'def456', '--from', oci, '--images', images];
    expect(await script('push-images.mjs', args)).toMatchObject({
      status: 1,
      output: expect.stringContaining('nginx.tar: not a readable OCI image layout'),
    });
    exportLayout(oci, 'nginx', 'nginx build 2', { dropBlob: true });
    expect(await script('push-images.mjs', args)).toMatchObject({
      status: 1,
      output: expect.stringMatching(/nginx\.tar: lacks the blob sha256:/),
    });
    const tag = await fetch(`http://${registry.host}/v2/fibstack-client/manifests/def456`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.oci.image.index.v1+json' },
    });
    expect(tag.status).toBe(404);
    expect(() => readFileSync(images)).toThrow();
  });
});
