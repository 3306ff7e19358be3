import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/deploy-eks', import.meta.url));

/**
 * scripts/deploy-eks against stand-ins for `aws` and `kubectl` that record every call and answer as a
 * cluster would: the Secret present or not, a Deployment whose rollout fails, N revisions in its history.
 */
const bin = mkdtempSync(join(tmpdir(), 'deploy-eks-test-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const log = join(bin, 'calls.log');
writeFileSync(join(bin, 'aws'), `#!/bin/sh\necho "aws $*" >> "${log}"\n`);
writeFileSync(
  join(bin, 'kubectl'),
  `#!/bin/sh
echo "kubectl $*" >> "${log}"
case "$*" in
  *"get secret fibstack-secrets"*) [ -z "$SECRET_MISSING" ] ;;
  *"rollout status deployment/$FAIL_DEPLOYMENT "*) exit 1 ;;
  *"rollout history"*) echo "REVISION  CHANGE-CAUSE"; seq "$REVISIONS" | sed 's/$/  <none>/' ;;
esac
`,
);
chmodSync(join(bin, 'aws'), 0o755);
chmodSync(join(bin, 'kubectl'), 0o755);

function deploy(env: Record<string, string>) {
  rmSync(log, { force: true });
  const result = spawnSync(SCRIPT, [], {
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      EKS_CLUSTER: 'fib',
      EKS_REGION: '',
      EB_REGION: 'eu-west-1',
      DOCKER_ID: 'acme',
      TRAVIS_COMMIT: 'abc123',
      SECRET_MISSING: '',
      FAIL_DEPLOYMENT: '',
      REVISIONS: '3',
      ...env,
    },
    encoding: 'utf8',
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: result.status, stderr: result.stderr, calls };
}

const rollouts = ['statefulset/postgres', 'statefulset/redis', 'deployment/server', 'deployment/worker', 'deployment/client'].map(
  (target) => `kubectl -n fibstack rollout status ${target} --timeout=5m`,
);

describe('scripts/deploy-eks', { timeout: 30_000 }, () => {
  it('applies k8s/, pins every container to the commit image and waits for every rollout', () => {
    const { status, calls } = deploy({});
    expect(status).toBe(0);
    expect(calls).toEqual([
      'aws eks update-kubeconfig --name fib --region eu-west-1',
      'kubectl apply -f k8s/00-namespace.yaml',
      'kubectl -n fibstack get secret fibstack-secrets',
      'kubectl apply -f k8s',
      'kubectl -n fibstack set image deployment/server migrate=acme/fibstack-server:abc123 server=acme/fibstack-server:abc123',
      'kubectl -n fibstack set image deployment/worker worker=acme/fibstack-worker:abc123',
      'kubectl -n fibstack set image deployment/client client=acme/fibstack-client:abc123',
      ...rollouts,
    ]);
  });

  it('uses EKS_REGION when set', () => {
    expect(deploy({ EKS_REGION: 'us-east-2' }).calls[0]).toBe('aws eks update-kubeconfig --name fib --region us-east-2');
  });

  it('stops before applying anything but the namespace when the Secret is missing', () => {
    const { status, stderr, calls } = deploy({ SECRET_MISSING: '1' });
    expect(status).toBe(1);
    expect(stderr).toContain('kubectl -n fibstack create secret generic fibstack-secrets');
    expect(calls).not.toContain('kubectl apply -f k8s');
  });

  it('rolls back a Deployment that does not become ready, still waits for the others, and fails', () => {
    const { status, calls } = deploy({ FAIL_DEPLOYMENT: 'worker' });
    expect(status).toBe(1);
    expect(calls).toEqual(expect.arrayContaining([...rollouts, 'kubectl -n fibstack rollout undo deployment/worker']));
    expect(calls.filter((call) => call.includes('rollout undo'))).toEqual(['kubectl -n fibstack rollout undo deployment/worker']);
  });

  it('does not roll back to the placeholder image of a first deployment', () => {
    const { status, calls } = deploy({ FAIL_DEPLOYMENT: 'server', REVISIONS: '2' });
    expect(status).toBe(1);
    expect(calls.filter((call) => call.includes('rollout undo'))).toEqual([]);
  });

  it('refuses to run without its settings', () => {
    expect(deploy({ DOCKER_ID: '' })).toMatchObject({ status: 1, calls: [] });
    expect(deploy({ EB_REGION: '' }).stderr).toContain('set EKS_REGION or EB_REGION');
  });
});
