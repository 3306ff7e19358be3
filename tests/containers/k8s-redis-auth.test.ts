import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseImages } from '../support/image-references.js';
import { CREATED_BY_HAND, workloads, type PodTemplateSpec } from '../support/k8s-manifests.js';
import { render } from '../support/kustomize-render.js';
import { localImage, provisionBaseImages } from './docker.js';
import {
  copyImagesToPodman,
  createNetworkAndSecret,
  down,
  play,
  podFromTemplate,
  podIp,
  podman,
  removeNetworkSecretAndVolumes,
  logsOf,
  waitReady,
  workloadPod,
  writePlay,
  type Lab,
} from './podman.js';

/**
 * The Redis of k8s/ requires the password of the Secret (REDIS_PASSWORD): its rendered pod, run with
 * `podman kube play`, refuses a client without it and answers one with it (the server and worker
 * authenticating end to end: tests/containers/k8s-pods.test.ts). The password reaches redis-server on
 * stdin, not in its arguments, and one that could break the URLs it goes into stops Redis from starting.
 */
const lab: Lab = { dir: mkdtempSync(join(tmpdir(), 'fibstack-k8s-redis-auth-')), network: 'fibstack-k8s-redis-auth' };
const objects = render({ overlay: 'local' });
const redis = workloads(objects).find(({ object }) => object.metadata.name === 'redis')!;
const configMaps = objects.filter((object) => object.kind === 'ConfigMap');
const redisPlay = writePlay(lab, 'redis', configMaps, workloadPod(lab, redis.object));
const password = CREATED_BY_HAND.secrets['fibstack-secrets'].REDIS_PASSWORD;

/** The redis pod template with REDIS_PASSWORD given literally instead of from the Secret. */
function withPassword(value: string): PodTemplateSpec {
  const template = structuredClone(redis.template);
  const container = template.spec.containers[0]!;
  container.env = container.env!.map((variable) => (variable.name === 'REDIS_PASSWORD' ? { name: variable.name, value } : variable));
  // podman publishes container ports on the host, where the other Redis pod has 6379 already.
  delete container.ports;
  // The claim's volume, as a scratch directory: this pod must stop before it writes anything.
  template.spec.volumes = [...(template.spec.volumes ?? []), { name: 'data', emptyDir: {} }];
  return template;
}
const badPassword = writePlay(lab, 'redis-bad-password', configMaps, [
  podFromTemplate(lab, 'redis-bad-password', withPassword('with space&"quote'), [], 'Never'),
]);

async function cleanUp() {
  for (const name of ['redis', 'redis-bad-password']) await podman(['pod', 'rm', '-f', name]).catch(() => undefined);
  await removeNetworkSecretAndVolumes(lab, ['data-redis-0']);
}

describe('k8s Redis, rendered by kustomize, run with podman kube play', () => {
  beforeAll(async () => {
    await provisionBaseImages();
    await copyImagesToPodman([localImage(baseImages().redis!)]);
    await cleanUp();
    await createNetworkAndSecret(lab);
    await play(lab, redisPlay);
    await waitReady(lab, 'redis', redis.template);
  });

  afterAll(async () => {
    await down(redisPlay);
    await cleanUp();
    rmSync(lab.dir, { recursive: true, force: true });
  });

  it('refuses a client on the network without the password, answers one with it', async () => {
    const address = await podIp(lab, 'redis');
    /** redis-cli over the pod's address, authenticating with `auth` (none when empty); what it printed. */
    const ping = (auth: string) =>
      podman([
        'exec',
        'redis-redis',
        'sh',
        '-c',
        `${auth ? `export REDISCLI_AUTH='${auth}'` : 'unset REDISCLI_AUTH'}; redis-cli -h ${address} ping 2>&1`,
      ]);
    expect(await ping('')).toContain('NOAUTH Authentication required');
    expect(await ping('not0the0password')).toMatch(/WRONGPASS/);
    expect(await ping(password)).toBe('PONG');
  });

  it('keeps the password out of the process arguments', async () => {
    expect(await podman(['exec', 'redis-redis', 'sh', '-c', 'tr "\\0" " " < /proc/1/cmdline'])).not.toContain(password);
  });

  it('does not start with a password that is not letters and digits, saying why', async () => {
    // podman 4.3 reports a container that exits at once as one that failed to start: its exit code and
    // log are read all the same.
    await play(lab, badPassword).catch(() => undefined);
    try {
      expect(Number(await podman(['wait', 'redis-bad-password-redis'], 60_000))).toBe(1);
      expect(await logsOf('redis-bad-password-redis')).toContain('REDIS_PASSWORD (Secret fibstack-secrets) must be letters and digits');
    } finally {
      await down(badPassword);
    }
  });
});
