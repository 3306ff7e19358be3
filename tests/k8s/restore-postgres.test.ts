import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseObjects, REPO } from '../support/kustomize-render.js';

/**
 * scripts/restore-postgres against a test double of kubectl (no cluster here) that records what it is
 * asked, keeps the Job it is given, and plays the Job's course as each test sets it: success, failure,
 * a pod that cannot start, or no end at all. The restore itself (the Job's pod against a real
 * Postgres) runs in tests/containers/k8s-backup-restore.test.ts.
 */
const bin = mkdtempSync(join(tmpdir(), 'restore-postgres-test-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const log = join(bin, 'calls.log');
const created = join(bin, 'job.yaml');
writeFileSync(
  join(bin, 'kubectl'),
  `#!/bin/bash
echo "kubectl $*" >> "${log}"
case "$*" in
  "create -f - -o name") cat > "${created}"; echo job.batch/postgres-restore-x7k2q ;;
  *"get scaledobject.keda.sh worker"*) [ -n "$KEDA" ] ;;
  *"get job.batch/postgres-restore-x7k2q -o jsonpath="*) echo "$JOB_STATE" ;;
  *"get pod -l job-name=postgres-restore-x7k2q"*) echo "$WAITING" ;;
  *"logs job.batch/postgres-restore-x7k2q") echo "restoring /backups/fibstack-20261201T033000Z.dump into fibstack on postgres" ;;
esac
`,
);
chmodSync(join(bin, 'kubectl'), 0o755);

function restore(args: string[], env: Record<string, string> = {}) {
  for (const file of [log, created]) rmSync(file, { force: true });
  const result = spawnSync(join(REPO, 'scripts/restore-postgres'), args, {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, KEDA: '', JOB_STATE: '1/', WAITING: '', RESTORE_TIMEOUT: '', ...env },
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  const job = existsSync(created) ? parseObjects(readFileSync(created, 'utf8'))[0] : undefined;
  return { ...result, calls, job };
}
const backupFile = (job: ReturnType<typeof restore>['job']) =>
  (
    job!.spec as { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }> }> } } }
  ).template.spec.containers[0]!.env.find((variable) => variable.name === 'BACKUP_FILE')!.value;

describe('scripts/restore-postgres', { timeout: 30_000 }, () => {
  it('stops the writers, restores the dump asked for, prints the log and starts the writers again', () => {
    const { status, calls, stderr, job } = restore(['/backups/fibstack-20261201T033000Z.dump']);
    expect(status, stderr).toBe(0);
    expect(backupFile(job)).toBe('/backups/fibstack-20261201T033000Z.dump');
    const at = (call: string) => calls.indexOf(call);
    const stop = at('kubectl -n fibstack scale deployment/server deployment/worker --replicas=0');
    const gone = at('kubectl -n fibstack wait --for=delete pod -l app.kubernetes.io/component in (server,worker) --timeout=2m');
    const create = at('kubectl create -f - -o name');
    const start = at('kubectl -n fibstack scale deployment/server deployment/worker --replicas=2');
    expect([stop, gone, create, start].every((index) => index >= 0)).toBe(true);
    expect(stop < gone && gone < create && create < start).toBe(true);
    expect(stderr).toContain('restoring /backups/fibstack-20261201T033000Z.dump into fibstack on postgres');
    expect(stderr).toContain('job.batch/postgres-restore-x7k2q: restored');
  });

  it('without an argument restores the newest dump (the Job picks it)', () => {
    const { status, job } = restore([]);
    expect(status).toBe(0);
    expect(backupFile(job)).toBe('');
  });

  it('reports a failed restore at once, with its log, and leaves the writers stopped', () => {
    // A short deadline, so that a restore that failed to notice ends this test in time all the same.
    const { status, calls, stderr } = restore([], { JOB_STATE: '/1', RESTORE_TIMEOUT: '10s' });
    expect(status).toBe(1);
    expect(stderr).toContain('job.batch/postgres-restore-x7k2q: the Job failed. The database is as it was');
    expect(stderr).toContain('restoring /backups/');
    expect(calls.filter((call) => call.includes('--replicas=2'))).toEqual([]);
    expect(calls.filter((call) => call.includes('-o jsonpath={.status.succeeded}'))).toHaveLength(1);
  });

  it('reports a pod that cannot start (a missing Secret key, an image) at once instead of waiting for the deadline', () => {
    const { status, stderr, calls } = restore([], { JOB_STATE: '/', WAITING: 'CreateContainerConfigError', RESTORE_TIMEOUT: '10s' });
    expect(status).toBe(1);
    expect(stderr).toContain('its pod cannot start: CreateContainerConfigError');
    expect(calls.filter((call) => call.includes('-o jsonpath={.status.succeeded}'))).toHaveLength(1);
  });

  it('gives up after RESTORE_TIMEOUT', () => {
    const { status, stderr } = restore([], { JOB_STATE: '/', RESTORE_TIMEOUT: '1s' });
    expect(status).toBe(1);
    expect(stderr).toContain('it did not finish within 1s');
  });

  it('with KEDA, pauses its ScaledObject at 0 instead of scaling the worker, and unpauses it after', () => {
    const { status, calls } = restore([], { KEDA: '1' });
    expect(status).toBe(0);
    expect(calls).toContain('kubectl -n fibstack annotate scaledobject.keda.sh worker autoscaling.keda.sh/paused-replicas=0 --overwrite');
    expect(calls).toContain('kubectl -n fibstack scale deployment/server --replicas=0');
    expect(calls.at(-1)).toBe('kubectl -n fibstack annotate scaledobject.keda.sh worker autoscaling.keda.sh/paused-replicas-');
  });

  it('refuses a file that is no dump of the backup volume, touching nothing', () => {
    const { status, stderr, calls } = restore(['/etc/passwd']);
    expect(status).toBe(1);
    expect(stderr).toContain('not a dump of the backup volume');
    expect(calls).toEqual([]);
  });
});
