import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRegistry } from './local-registry.js';
import { OPERATOR_SIGNING_KEY, REPO } from './kustomize-render.js';

export const SERVICES = ['client', 'server', 'worker', 'nginx'] as const;
type Refs = Record<(typeof SERVICES)[number], string>;

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Puts `bytes` as a blob of `repository` (one POST, one PUT, as the distribution API allows). */
async function putBlob(host: string, repository: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(bytes);
  const upload = await fetch(`http://${host}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  const location = new URL(upload.headers.get('location')!, `http://${host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, {
    method: 'PUT',
    body: new Uint8Array(bytes),
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  if (put.status !== 201) throw new Error(`PUT blob ${digest}: ${put.status}`);
  return { digest, size: bytes.length };
}

/** Pushes a one-layer image holding `content` as `repository:tag`; returns host/repository@digest. */
async function pushImage(host: string, repository: string, content: string): Promise<string> {
  const config = await putBlob(
    host,
    repository,
    Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } })),
  );
  const layer = await putBlob(host, repository, Buffer.from(content));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    }),
  );
  const put = await fetch(`http://${host}/v2/${repository}/manifests/test`, {
    method: 'PUT',
    body: manifest,
    headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (put.status !== 201) throw new Error(`PUT manifest of ${repository}: ${put.status}`);
  return `${host}/${repository}@${sha256(manifest)}`;
}

export interface SignedRelease {
  /** The images, by digest, in a real registry on this machine, signed by the operator's key (OPERATOR_SIGNING_KEY). */
  refs: Refs;
  /** A file recording `refs` (what `scripts/release-images push` writes), and one with `changes` laid over them. */
  imagesFile(name: string, changes?: Partial<Refs>): string;
  /** Pushes an image nobody signed; returns its reference. */
  pushUnsigned(service: (typeof SERVICES)[number], content: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A release as CI's push job leaves it: the four images in a real registry (Debian's docker-registry on a
 * loopback port), pushed without Docker, and signed with the operator's key by scripts/sign-images.mjs.
 */
export async function startSignedRelease(): Promise<SignedRelease> {
  const registry = await startRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'signed-release-'));
  const imagesFile = (name: string, changes: Partial<Refs> = {}) => {
    writeFileSync(join(dir, name), JSON.stringify({ ...refs, ...changes }));
    return join(dir, name);
  };
  const refs = {} as Refs;
  try {
    for (const service of SERVICES) refs[service] = await pushImage(registry.host, `fibstack-${service}`, `${service}, signed\n`);
    writeFileSync(join(dir, 'cosign.pub'), OPERATOR_SIGNING_KEY.publicPem);
    execFileSync('node', ['scripts/sign-images.mjs', '--images', imagesFile('signed.json'), '--public-key', join(dir, 'cosign.pub')], {
      cwd: REPO,
      env: { ...process.env, COSIGN_PRIVATE_KEY: OPERATOR_SIGNING_KEY.privatePem },
      stdio: 'pipe',
    });
  } catch (error) {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    refs,
    imagesFile,
    pushUnsigned: (service, content) => pushImage(registry.host, `fibstack-${service}`, content),
    async stop() {
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
