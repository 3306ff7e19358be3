import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface Job {
  stage: string;
  script: string[];
  addons?: { snaps?: Array<{ name: string; confinement?: string }> };
  deploy?: Array<Record<string, unknown> & { provider: string; on: Record<string, string> }>;
}

interface TravisConfig {
  services: string[];
  install: string[];
  stages: Array<string | { name: string; if?: string }>;
  jobs: { include: Job[] };
  [key: string]: unknown;
}

const travis = parse(readFileSync(fileURLToPath(new URL('../../.travis.yml', import.meta.url)), 'utf8')) as TravisConfig;
const job = (stage: string) => travis.jobs.include.find((candidate) => candidate.stage === stage)!;

/** Runs `commands` with bash as Travis would, `docker` being a function that records its arguments and stdin. */
function runWithFakeDocker(commands: string[], env: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'travis-test-'));
  try {
    const log = join(dir, 'docker.log');
    const fake = `docker() { if [ "$1" = login ]; then echo "docker $* <stdin:$(cat)>"; else echo "docker $*"; fi >> "${log}"; }`;
    execFileSync('bash', ['-c', [fake, ...commands].join('\n')], { env: { ...process.env, ...env }, stdio: 'pipe' });
    return readFileSync(log, 'utf8').trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('.travis.yml', { timeout: 30_000 }, () => {
  it('tests in an image built from the source with CI=true, then checks the deployment files', () => {
    expect(travis.services).toContain('docker');
    const steps = job('test').script.join('\n');
    expect(steps).toMatch(/docker build -f Dockerfile\.test -t fibstack-test \./);
    expect(steps).toMatch(/docker run --rm -e CI=true fibstack-test/);
    expect(steps).toContain('npm run test:k8s');
  });

  it('deploys only from pushes to main, after the test stage passed, and never from before_deploy (Travis runs it once per provider)', () => {
    expect(travis.stages.map((stage) => (typeof stage === 'string' ? stage : stage.name))).toEqual(['test', 'deploy']);
    expect(travis.stages[1]).toEqual({ name: 'deploy', if: 'branch = main AND type = push' });
    expect(JSON.stringify(travis)).not.toContain('before_deploy');
    expect(travis.jobs.include.filter((candidate) => candidate.deploy).map((candidate) => candidate.stage)).toEqual(['deploy']);
  });

  it('logs in through stdin, then builds and pushes all four images by commit and as latest', () => {
    const calls = runWithFakeDocker(job('deploy').script.filter((line) => line.includes('docker')), {
      DOCKER_ID: 'acme',
      DOCKER_PASSWORD: 's3cret',
      TRAVIS_COMMIT: 'abc123',
    });
    expect(calls[0]).toBe('docker login -u acme --password-stdin <stdin:s3cret>');
    expect(calls.slice(1).join('\n')).not.toContain('s3cret');
    const services = ['client', 'server', 'worker', 'nginx'];
    expect(calls.slice(1)).toEqual(
      services.flatMap((service) => [
        `docker build -f ${service}/Dockerfile -t acme/fibstack-${service}:abc123 -t acme/fibstack-${service}:latest .`,
        `docker push acme/fibstack-${service}:abc123`,
        `docker push acme/fibstack-${service}:latest`,
      ]),
    );
  });

  it('stops at the first failed push', () => {
    const loop = job('deploy').script.find((line) => line.includes('docker push'))!;
    const dir = mkdtempSync(join(tmpdir(), 'travis-test-'));
    try {
      const log = join(dir, 'log');
      const failingPush = `docker() { echo "$*" >> "${log}"; [ "$1" != push ]; }`;
      expect(() => execFileSync('bash', ['-c', `${failingPush}\n${loop}`], { env: { ...process.env, DOCKER_ID: 'a', TRAVIS_COMMIT: 'c' }, stdio: 'pipe' })).toThrow();
      expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual(['build -f client/Dockerfile -t a/fibstack-client:c -t a/fibstack-client:latest .', 'push a/fibstack-client:c']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('builds the Elastic Beanstalk bundle for the commit and deploys it with dpl v2, waiting for the result', () => {
    expect(job('deploy').script).toContain('IMAGE_TAG="$TRAVIS_COMMIT" scripts/eb-bundle dist/eb-bundle.zip');
    const eb = job('deploy').deploy!.find((step) => step.provider === 'elasticbeanstalk')!;
    expect(eb).toMatchObject({
      edge: true,
      access_key_id: '$AWS_ACCESS_KEY_ID',
      secret_access_key: '$AWS_SECRET_ACCESS_KEY',
      region: '$EB_REGION',
      app: '$EB_APP',
      env: '$EB_ENV',
      bucket: '$EB_BUCKET',
      zip_file: 'dist/eb-bundle.zip',
      wait_until_deployed: true,
      cleanup: false,
      on: { branch: 'main' },
    });
  });

  it('rolls out to EKS only on main when a cluster is configured, with kubectl and the aws CLI installed', () => {
    const eks = job('deploy').deploy!.find((step) => step.provider === 'script')!;
    expect(eks).toMatchObject({ edge: true, script: 'scripts/deploy-eks', on: { branch: 'main', condition: '-n "$EKS_CLUSTER"' } });
    expect(job('deploy').addons?.snaps?.map((snap) => snap.name).sort()).toEqual(['aws-cli', 'kubectl']);
  });
});
