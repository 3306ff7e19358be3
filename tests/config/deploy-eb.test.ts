import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_SIGNING_KEY, REPO, SIGNING_KEY_FILE } from '../support/kustomize-render.js';
import { SERVICES, startSignedRelease, type SignedRelease } from '../support/signed-release.js';

/**
 * scripts/deploy-eb, the deploy stage's Elastic Beanstalk job, against a stand-in of the aws CLI (no AWS account
 * here) that records its calls, keeps the uploaded bundle and answers describe-environments and describe-events
 * as each case sets up, and a real registry holding the release's images, signed with the operator's key: the
 * script verifies them itself before it uploads anything.
 */
const bin = mkdtempSync(join(tmpdir(), 'deploy-eb-test-'));
const log = join(bin, 'calls.log');
writeFileSync(
  join(bin, 'aws'),
  `#!/bin/bash
echo "aws $*" >> "${log}"
case "$1 $2" in
  "s3 cp") cp "$3" "${bin}/uploaded.zip" ;;
  "elasticbeanstalk update-environment") for arg; do [ "$previous" = --version-label ] && echo "$arg" > "${bin}/label"; previous=$arg; done ;;
  "elasticbeanstalk describe-environments")
    # STATES: "Status:Health:Version …", one per look; the last repeats. Version "new" is the label deployed.
    read -r -a states <<<"$STATES"; n=$(cat "${bin}/looks" 2>/dev/null || echo 0); echo $((n + 1)) > "${bin}/looks"
    state=\${states[$n]:-\${states[-1]}}; IFS=: read -r status health version <<<"$state"
    [ "$version" = new ] && version=$(cat "${bin}/label")
    printf '%s\\t%s\\t%s\\n' "$status" "$health" "$version" ;;
  "elasticbeanstalk describe-events") [ -z "$EVENTS" ] || printf '%b\\n' "$EVENTS" ;;
esac
`,
);
chmodSync(join(bin, 'aws'), 0o755);

/** A checkout whose operator added their public key (the repository commits none): scripts/ beside it. */
const checkout = join(bin, 'repo');
for (const folder of ['scripts', 'kustomize']) cpSync(join(REPO, folder), join(checkout, folder), { recursive: true });
cpSync(join(REPO, 'docker-compose.yml'), join(checkout, 'docker-compose.yml'));
writeFileSync(join(checkout, SIGNING_KEY_FILE), OPERATOR_SIGNING_KEY.publicPem);
symlinkSync(join(REPO, 'node_modules'), join(checkout, 'node_modules'));

let release: SignedRelease;
beforeAll(async () => {
  release = await startSignedRelease();
});
afterAll(async () => {
  await release?.stop();
  rmSync(bin, { recursive: true, force: true });
});

function deploy(env: Record<string, string>, script = join(checkout, 'scripts/deploy-eb')) {
  execFileSync('bash', ['-c', `rm -f ${log} ${bin}/looks ${bin}/label ${bin}/uploaded.zip`]);
  const result = spawnSync(script, [], {
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      EB_REGION: 'eu-west-1',
      EB_APP: 'fibstack',
      EB_ENV: 'fibstack-prod',
      EB_BUCKET: 'fibstack-bundles',
      EB_BUCKET_PATH: '',
      IMAGES: release.imagesFile('images.json'),
      EB_WAIT_TIMEOUT: '',
      EB_POLL_INTERVAL: '0',
      STATES: 'Updating:Grey:old Ready:Green:new',
      EVENTS: '',
      ...env,
    },
    encoding: 'utf8',
  });
  const calls = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  return { status: result.status, stderr: result.stderr, calls };
}

/** The compose file of the bundle the stand-in received. */
function uploadedCompose(): { services: Record<string, { image?: string }> } {
  const dir = mkdtempSync(join(bin, 'unzip-'));
  execFileSync('python3', ['-m', 'zipfile', '-e', join(bin, 'uploaded.zip'), dir]);
  return parse(readFileSync(join(dir, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { image?: string }> };
}

describe('scripts/deploy-eb', { timeout: 60_000 }, () => {
  it('verifies the images, uploads the bundle of their digests, deploys it as a new version and waits for Ready and Green', () => {
    const { status, stderr, calls } = deploy({ EVENTS: '2026-12-05T10:00:01Z\\tINFO\\tEnvironment update is starting.' });
    expect(status, stderr).toBe(0);
    const label = readFileSync(join(bin, 'label'), 'utf8').trim();
    expect(label).toMatch(/^fibstack-\d{8}T\d{6}Z-[0-9a-f]{12}$/);
    expect(calls.slice(0, 3)).toEqual([
      expect.stringMatching(
        new RegExp(`^aws s3 cp /\\S+/bundle\\.zip s3://fibstack-bundles/fibstack/${label}\\.zip --region eu-west-1 --only-show-errors$`),
      ),
      expect.stringContaining(
        `aws elasticbeanstalk create-application-version --region eu-west-1 --application-name fibstack --version-label ${label} ` +
          `--source-bundle S3Bucket=fibstack-bundles,S3Key=fibstack/${label}.zip --no-auto-create-application --description ${release.refs.server}`,
      ),
      `aws elasticbeanstalk update-environment --region eu-west-1 --environment-name fibstack-prod --version-label ${label}`,
    ]);
    // Waited: looked twice at the environment and its events.
    expect(calls.filter((call) => call.includes('describe-environments'))).toHaveLength(2);
    expect(stderr).toContain('[INFO] Environment update is starting.');
    expect(stderr.match(/Environment update is starting/g)).toHaveLength(1);
    expect(stderr).toContain(`deployed ${label}: fibstack-prod is Ready and Green`);
    const own = Object.values(uploadedCompose().services)
      .map((service) => service.image!)
      .filter((image) => image.includes('/fibstack-'));
    expect([...new Set(own)].sort()).toEqual(SERVICES.map((service) => release.refs[service]).sort());
  });

  it('refuses an image nobody signed before it uploads anything', async () => {
    const unsigned = await release.pushUnsigned('worker', 'worker, built outside CI\n');
    const { status, stderr, calls } = deploy({ IMAGES: release.imagesFile('unsigned.json', { worker: unsigned }) });
    expect(status).toBe(1);
    expect(stderr).toContain(`REFUSED worker ${unsigned}: not signed (no signature manifest)`);
    expect(stderr).toContain('refused: not every image is signed by the project');
    expect(calls).toEqual([]);
  });

  it('refuses until the operator adds their public key, saying how', () => {
    const { status, stderr, calls } = deploy({}, join(REPO, 'scripts/deploy-eb'));
    expect(status).toBe(1);
    expect(stderr).toContain('no public key at');
    expect(stderr).toContain('Generate your key pair (scripts/README.md, "Supply chain")');
    expect(calls).toEqual([]);
  });

  it('fails on an error event, on a version Elastic Beanstalk did not keep, on a health other than Green, and on a timeout', () => {
    const failed = deploy({ EVENTS: '2026-12-05T10:00:09Z\\tERROR\\tFailed to deploy application.' });
    expect(failed).toMatchObject({ status: 1, stderr: expect.stringContaining('reported 1 error(s) (above): the deploy failed') });
    const rolledBack = deploy({ STATES: 'Updating:Grey:old Ready:Green:old' });
    expect(rolledBack).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/runs old, not fibstack-\S+: Elastic Beanstalk did not keep/),
    });
    expect(deploy({ STATES: 'Ready:Red:new' })).toMatchObject({ status: 1, stderr: expect.stringContaining('is Red, not Green') });
    const stuck = deploy({ STATES: 'Updating:Grey:old', EB_WAIT_TIMEOUT: '3' });
    expect(stuck).toMatchObject({ status: 1, stderr: expect.stringContaining('fibstack-prod is still Updating after 3s') });
    expect(stuck.calls.filter((call) => call.includes('describe-environments')).length).toBeGreaterThan(1);
  });

  it('refuses to run without its settings', () => {
    expect(deploy({ EB_BUCKET: '' })).toMatchObject({ status: 1, stderr: expect.stringContaining('set EB_BUCKET'), calls: [] });
    expect(deploy({ EB_WAIT_TIMEOUT: 'ten minutes' }).stderr).toContain('EB_WAIT_TIMEOUT and EB_POLL_INTERVAL are seconds');
  });
});
