import { execFile } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, REPO_ROOT } from './docker.js';
import { startRegistry, type LocalRegistry } from '../support/local-registry.js';

const run = promisify(execFile);
const SERVICES = ['client', 'server', 'worker', 'nginx'] as const;
const dir = mkdtempSync(join(tmpdir(), 'fibstack-signing-'));

/** An ECDSA P-256 key pair as PEM files (what `cosign generate-key-pair` makes, unencrypted). */
function keyPair(name: string): { privatePem: string; publicFile: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const publicFile = join(dir, `${name}.pub`);
  writeFileSync(publicFile, publicKey.export({ type: 'spki', format: 'pem' }));
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicFile };
}

/** Runs one of the scripts from the repository root; returns its exit status and output. */
async function script(name: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run('node', [`scripts/${name}`, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env } });
    return { status: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { status: failure.code, output: failure.stdout + failure.stderr };
  }
}

/**
 * Signing and verifying against a real registry (distribution 2.8 on a loopback port): small images are
 * pushed with Docker, signed by scripts/sign-images.mjs, and scripts/verify-images.mjs, which the deploys
 * run before applying anything, accepts them and refuses an unsigned, a re-signed-elsewhere or a
 * tampered one.
 */
describe('signed images (sign-images, verify-images) in a local registry', () => {
  let registry: LocalRegistry;
  const imageIds = new Set<string>();
  const project = keyPair('project');
  const stranger = keyPair('stranger');
  const refs: Record<string, string> = {};

  /** Builds a one-file image, pushes it as `name`, returns name@digest. */
  async function push(name: string, content: string): Promise<string> {
    const context = join(dir, 'context', name.replace(/\W/g, '-'));
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY content.txt /\n');
    writeFileSync(join(context, 'content.txt'), content);
    const tag = `${registry.host}/${name}:test`;
    imageIds.add(await docker(['build', '-q', '-t', tag, context]));
    await docker(['push', tag]);
    const digests = (await docker(['image', 'inspect', '-f', '{{join .RepoDigests " "}}', tag])).split(' ');
    return digests.find((digest) => digest.startsWith(`${registry.host}/${name}@`))!;
  }

  const imagesFile = (name: string, images: Record<string, string>) => {
    const file = join(dir, name);
    writeFileSync(file, JSON.stringify(images));
    return file;
  };
  const sign = (file: string, key = project.privatePem) =>
    script('sign-images.mjs', ['--images', file, '--public-key', project.publicFile], { COSIGN_PRIVATE_KEY: key });
  const verify = (file: string) => script('verify-images.mjs', ['--images', file, '--key', project.publicFile]);

  beforeAll(async () => {
    registry = await startRegistry();
    for (const service of SERVICES) refs[service] = await push(`fibstack-${service}`, `${service}\n`);
  });

  afterAll(async () => {
    // By id: a name pushed twice leaves its first image untagged, still named by its repository digest.
    for (const id of imageIds) await docker(['rmi', '-f', id]).catch(() => undefined);
    await registry?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs every pushed image and then verifies them all', async () => {
    const file = imagesFile('images.json', refs);
    expect(await verify(file)).toMatchObject({ status: 1, output: expect.stringContaining('not signed (no signature manifest)') });
    const signed = await sign(file);
    expect(signed.status, signed.output).toBe(0);
    const verified = await verify(file);
    expect(verified.status, verified.output).toBe(0);
    expect(verified.output.trim().split('\n')).toEqual(SERVICES.map((service) => `verified ${service} ${refs[service]}`));
    // Signing again adds a signature: both verify, and cosign would list two.
    expect((await sign(file)).status).toBe(0);
    expect((await verify(file)).status).toBe(0);
  });

  it('refuses an image nobody signed, naming it, while the others pass', async () => {
    const unsigned = await push('fibstack-nginx', 'nginx, rebuilt outside CI\n');
    const result = await verify(imagesFile('unsigned.json', { ...refs, nginx: unsigned }));
    expect(result.status).toBe(1);
    expect(result.output).toContain(`REFUSED nginx ${unsigned}: not signed (no signature manifest)`);
    expect(result.output).toContain(`verified server ${refs.server}`);
    expect(result.output).toContain('1 image(s) refused; nothing may be deployed');
  });

  it("refuses an image signed with another key, and refuses to sign with a key that is not the project's", async () => {
    const other = await push('fibstack-worker', 'worker, signed by a stranger\n');
    const file = imagesFile('stranger.json', { ...refs, worker: other });
    const refusedToSign = await sign(file, stranger.privatePem);
    expect(refusedToSign).toMatchObject({ status: 1, output: expect.stringContaining('the signing key does not belong to') });
    // The stranger signs anyway, with their own tooling (these scripts, their own public key).
    const forged = await script('sign-images.mjs', ['--images', file, '--public-key', stranger.publicFile], {
      COSIGN_PRIVATE_KEY: stranger.privatePem,
    });
    expect(forged.status, forged.output).toBe(0);
    expect(await verify(file)).toMatchObject({
      status: 1,
      output: expect.stringContaining(`REFUSED worker ${other}: no valid signature: a signature that the key does not verify`),
    });
  });

  it('refuses a signature copied from another image, and one whose signed claim was altered', async () => {
    const copy = await push('fibstack-client', 'client, with a borrowed signature\n');
    const digestOf = (ref: string) => ref.slice(ref.indexOf('@') + 1);
    const sigTag = (ref: string) => `${digestOf(ref).replace(':', '-')}.sig`;
    const manifests = `http://${registry.host}/v2/fibstack-client/manifests/`;
    const accept = { Accept: 'application/vnd.oci.image.manifest.v1+json' };
    // The genuine client's signature manifest, put under the copy's signature tag.
    const genuine = await (await fetch(`${manifests}${sigTag(refs.client!)}`, { headers: accept })).text();
    const put = await fetch(`${manifests}${sigTag(copy)}`, {
      method: 'PUT',
      body: genuine,
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(put.status).toBe(201);
    expect(await verify(imagesFile('copied.json', { ...refs, client: copy }))).toMatchObject({
      status: 1,
      output: expect.stringContaining(
        `REFUSED client ${copy}: no valid signature: a signature of another image (${digestOf(refs.client!)})`,
      ),
    });

    // The claim rewritten to name the copy, keeping the genuine signature: the key no longer verifies it.
    const manifest = JSON.parse(genuine) as { layers: Array<{ digest: string; size: number }> };
    const claim = Buffer.from(
      JSON.stringify({
        critical: {
          identity: { 'docker-reference': `${registry.host}/fibstack-client` },
          image: { 'docker-manifest-digest': digestOf(copy) },
          type: 'cosign container image signature',
        },
        optional: null,
      }),
    );
    const upload = await fetch(`http://${registry.host}/v2/fibstack-client/blobs/uploads/`, { method: 'POST' });
    const location = new URL(upload.headers.get('location')!, `http://${registry.host}`);
    const claimDigest = `sha256:${createHash('sha256').update(claim).digest('hex')}`;
    location.searchParams.set('digest', claimDigest);
    expect((await fetch(location, { method: 'PUT', body: claim })).status).toBe(201);
    manifest.layers = manifest.layers.map((layer) => ({ ...layer, digest: claimDigest, size: claim.length }));
    await fetch(`${manifests}${sigTag(copy)}`, {
      method: 'PUT',
      body: JSON.stringify(manifest),
      headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    expect(await verify(imagesFile('altered.json', { ...refs, client: copy }))).toMatchObject({
      status: 1,
      output: expect.stringContaining(`REFUSED client ${copy}: no valid signature: a signature that the key does not verify`),
    });
  });

  it("attaches each image's SBOM beside it as an OCI referrer (scripts/sbom.mjs attach), found from the image's digest", async () => {
    const sbomDir = join(dir, 'sbom');
    mkdirSync(sbomDir);
    for (const service of ['server', 'worker', 'client'])
      writeFileSync(join(sbomDir, `${service}.cdx.json`), JSON.stringify({ bomFormat: 'CycloneDX', service }));
    const attached = await script('sbom.mjs', ['attach', imagesFile('sbom-images.json', refs), sbomDir]);
    expect(attached.status, attached.output).toBe(0);
    // distribution 2.8 has no referrers API: the referrers index sits under the tag the OCI spec names (sha256-<hex>).
    const digest = refs.server!.slice(refs.server!.indexOf('@') + 1);
    const index = (await (
      await fetch(`http://${registry.host}/v2/fibstack-server/manifests/${digest.replace(':', '-')}`, {
        headers: { Accept: 'application/vnd.oci.image.index.v1+json' },
      })
    ).json()) as { manifests: Array<{ digest: string; artifactType: string }> };
    expect(index.manifests.map((manifest) => manifest.artifactType)).toEqual(['application/vnd.cyclonedx+json']);
    const referrer = (await (
      await fetch(`http://${registry.host}/v2/fibstack-server/manifests/${index.manifests[0]!.digest}`, {
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json()) as { subject: { digest: string }; layers: Array<{ digest: string }> };
    expect(referrer.subject.digest).toBe(digest);
    const blob = await (await fetch(`http://${registry.host}/v2/fibstack-server/blobs/${referrer.layers[0]!.digest}`)).json();
    expect(blob).toEqual({ bomFormat: 'CycloneDX', service: 'server' });
    // The signatures are untouched: verification still passes.
    expect((await verify(imagesFile('images.json', refs))).status).toBe(0);
  });

  it('refuses a digest the registry does not hold', async () => {
    const missing = `${registry.host}/fibstack-server@sha256:${'0'.repeat(64)}`;
    expect(await verify(imagesFile('missing.json', { ...refs, server: missing }))).toMatchObject({
      status: 1,
      output: expect.stringContaining(`REFUSED server ${missing}: no such image in the registry`),
    });
  });
});
