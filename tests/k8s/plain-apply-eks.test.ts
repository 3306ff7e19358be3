import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from './kubernetes-schema.js';
import { containersOf, IMAGE_PLACEHOLDER, K8S_DIR, loadManifests, podTemplates } from './manifests.js';
import { REPO } from './render.js';

/**
 * The course's own command, `kubectl apply -f k8s`, on an EKS cluster made by eks/cluster.yaml: the
 * images are the user's registry's (one step, scripts/set-images), every claim binds through the
 * cluster's default gp3 class, and the edge gets an internet-facing NLB from the AWS Load Balancer
 * Controller that hands the client's address to the edge.
 */
const objects = loadManifests().map(({ object }) => object);
const clusterConfig = () =>
  parse(readFileSync(join(REPO, 'eks/cluster.yaml'), 'utf8')) as { addons: Array<{ name: string; configurationValues?: string }> };
const ownImages = (from: KubeObject[]) =>
  podTemplates(from)
    .flatMap(({ template }) => containersOf(template))
    .map((container) => container.image)
    .filter((image) => /fibstack-(server|worker|client|nginx)\b/.test(image));

describe('k8s/ on EKS: claims', () => {
  it('name no StorageClass, and the cluster config makes a default gp3 class for them (the EBS CSI add-on)', () => {
    const claims = [
      ...objects
        .filter((object) => object.kind === 'StatefulSet')
        .flatMap((set) => (set.spec as { volumeClaimTemplates: Array<{ spec: { storageClassName?: string } }> }).volumeClaimTemplates),
      ...objects.filter((object) => object.kind === 'PersistentVolumeClaim'),
    ].map((claim) => (claim.spec as { storageClassName?: string }).storageClassName);
    expect(claims.length).toBeGreaterThan(0);
    expect(claims.every((name) => name === undefined)).toBe(true);
    const ebs = clusterConfig().addons.find((addon) => addon.name === 'aws-ebs-csi-driver');
    expect(JSON.parse(ebs!.configurationValues!)).toMatchObject({ defaultStorageClass: { enabled: true } });
  });
});

describe('k8s/ on EKS: the edge', () => {
  const edge = objects.find((object) => object.kind === 'Service' && object.metadata.name === 'edge')!;

  it("is an internet-facing NLB of the AWS Load Balancer Controller, with IP targets that keep the client's address", () => {
    expect(edge.spec).toMatchObject({ type: 'LoadBalancer', loadBalancerClass: 'service.k8s.aws/nlb' });
    expect(edge.metadata.annotations).toMatchObject({
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
    });
    const attributes = edge.metadata.annotations!['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes']!;
    expect(attributes.split(',')).toContain('preserve_client_ip.enabled=true');
  });
});

describe('k8s/ on EKS: images, pointed at your registry in one step (scripts/set-images)', () => {
  const copies: string[] = [];
  afterAll(() => copies.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  /** A copy of k8s/ (what a user clones), with scripts/set-images run on it. */
  function setImages(...args: string[]) {
    const dir = mkdtempSync(join(tmpdir(), 'set-images-'));
    copies.push(dir);
    cpSync(K8S_DIR, join(dir, 'k8s'), { recursive: true });
    const run = spawnSync(join(REPO, 'scripts/set-images'), args, { encoding: 'utf8', env: { ...process.env, K8S_DIR: join(dir, 'k8s') } });
    return { ...run, objects: loadManifests(join(dir, 'k8s')).map(({ object }) => object), dir };
  }

  it('as committed, name no image a cluster could pull by mistake: the placeholder registry the step replaces', () => {
    expect(ownImages(objects).length).toBe(6);
    for (const image of ownImages(objects)) expect(image).toMatch(IMAGE_PLACEHOLDER);
  });

  it('points every image at the registry and tag given, and again at another (the step can be repeated)', () => {
    const first = setImages('123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'abc123');
    expect(first.status, first.stderr).toBe(0);
    expect(new Set(ownImages(first.objects))).toEqual(
      new Set(
        ['server', 'worker', 'client', 'nginx'].map((name) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/fibstack-${name}:abc123`),
      ),
    );
    const again = spawnSync(join(REPO, 'scripts/set-images'), ['acme', 'def456'], {
      encoding: 'utf8',
      env: { ...process.env, K8S_DIR: join(first.dir, 'k8s') },
    });
    expect(again.status, again.stderr).toBe(0);
    const text = execFileSync('bash', ['-c', `cat ${join(first.dir, 'k8s')}/*.yaml`], { encoding: 'utf8' });
    expect(text).not.toContain('123456789012');
    expect(text.match(/image: acme\/fibstack-(server|worker|client|nginx):def456$/gm)).toHaveLength(6);
  });

  it('writes digests instead of tags the same way, one per image (name@sha256:…, as a release records them)', () => {
    const services = ['server', 'worker', 'client', 'nginx'];
    const digest = (service: string) => `sha256:${service[0]!.repeat(64).replace(/[^a-f0-9]/g, 'f')}`;
    const run = setImages(...services.map((service) => `fibstack-${service}=acme/fibstack-${service}@${digest(service)}`));
    expect(run.status, run.stderr).toBe(0);
    for (const image of ownImages(run.objects)) {
      const service = /fibstack-(\w+)@/.exec(image)![1]!;
      expect(image).toBe(`acme/fibstack-${service}@${digest(service)}`);
    }
    // One digest for all four images cannot be right: refused.
    expect(setImages('acme', digest('server')).status).not.toBe(0);
  });

  it('refuses what is not a registry, a tag or a digest, and changes nothing', () => {
    for (const args of [
      [],
      ['acme'],
      ['acme', 'bad tag'],
      ['acme', 'sha256:123'],
      ['Bad Registry', 'v1'],
      ['acme', 'v1', 'extra'],
      ['fibstack-db=acme/db:1'],
      ['fibstack-server=acme/fibstack-server@sha256:12'],
    ]) {
      const run = setImages(...args);
      expect(run.status, args.join(' ')).not.toBe(0);
      expect(run.stderr).toMatch(/set-images: /);
      for (const image of ownImages(run.objects)) expect(image).toMatch(/^YOUR_REGISTRY\//);
    }
  });
});
