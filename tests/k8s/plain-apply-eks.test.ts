import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { containersOf, IMAGE_PLACEHOLDER, K8S_DIR, loadManifests, podTemplates } from '../support/k8s-manifests.js';
import { REPO } from '../support/kustomize-render.js';

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

  const services = ['server', 'worker', 'client', 'nginx'];
  const digest = (service: string, seed = 'a') => `sha256:${String(services.indexOf(service))}${seed.repeat(63)}`;
  /** A release record (dist/images.json, what scripts/release-images push writes) in a scratch folder. */
  function releaseRecord(registry: string, seed: string) {
    const dir = mkdtempSync(join(tmpdir(), 'set-images-record-'));
    copies.push(dir);
    const file = join(dir, 'images.json');
    writeFileSync(
      file,
      JSON.stringify(Object.fromEntries(services.map((service) => [service, `${registry}/fibstack-${service}@${digest(service, seed)}`]))),
    );
    return file;
  }

  it('points every image at the digests a release recorded, and again at another release (the step can be repeated)', () => {
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const first = setImages(releaseRecord(registry, 'a'));
    expect(first.status, first.stderr).toBe(0);
    expect(new Set(ownImages(first.objects))).toEqual(new Set(services.map((name) => `${registry}/fibstack-${name}@${digest(name, 'a')}`)));
    const again = spawnSync(join(REPO, 'scripts/set-images'), [releaseRecord('acme', 'b')], {
      encoding: 'utf8',
      env: { ...process.env, K8S_DIR: join(first.dir, 'k8s') },
    });
    expect(again.status, again.stderr).toBe(0);
    const text = execFileSync('bash', ['-c', `cat ${join(first.dir, 'k8s')}/*.yaml`], { encoding: 'utf8' });
    expect(text).not.toContain('123456789012');
    expect(text.match(/image: acme\/fibstack-(server|worker|client|nginx)@sha256:\db{63}$/gm)).toHaveLength(6);
  });

  it('writes one image by digest the same way (name@sha256:…, as a release records them)', () => {
    const run = setImages(...services.map((service) => `fibstack-${service}=acme/fibstack-${service}@${digest(service)}`));
    expect(run.status, run.stderr).toBe(0);
    for (const image of ownImages(run.objects)) {
      const service = /fibstack-(\w+)@/.exec(image)![1]!;
      expect(image).toBe(`acme/fibstack-${service}@${digest(service)}`);
    }
  });

  it('refuses a tag, in either form, and what is not an image by digest, and changes nothing', () => {
    const tagged = setImages('acme', 'abc123');
    expect(tagged.stderr).toContain('set-images: a tag is not accepted: it can be moved after the images were tested and signed');
    const recordWithTag = releaseRecord('acme', 'c');
    writeFileSync(recordWithTag, readFileSync(recordWithTag, 'utf8').replace(/fibstack-server@sha256:\w+/, 'fibstack-server:abc123'));
    for (const args of [
      ['acme', 'abc123'],
      ['acme', 'bad tag'],
      ['acme', 'v1', 'extra'],
      [recordWithTag],
      [join(tmpdir(), 'no-such-images.json')],
      ['fibstack-server=acme/fibstack-server:abc123'],
      ['fibstack-db=acme/db@sha256:' + 'a'.repeat(64)],
      ['fibstack-server=acme/fibstack-server@sha256:12'],
      ['fibstack-server=Bad Registry/fibstack-server@sha256:' + 'a'.repeat(64)],
    ]) {
      const run = setImages(...args);
      expect(run.status, args.join(' ')).not.toBe(0);
      expect(run.stderr).toMatch(/set-images: /);
      for (const image of ownImages(run.objects)) expect(image).toMatch(/^YOUR_REGISTRY\//);
    }
    expect(setImages(recordWithTag).stderr).toContain('server is "acme/fibstack-server:abc123", not registry/name@sha256');
  });
});
