import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';

interface Job {
  stage: string;
  name?: string;
  if?: string;
  script: string[];
  deploy?: Array<Record<string, unknown> & { provider: string; on: Record<string, string> }>;
}

interface TravisConfig {
  services: string[];
  before_install: string[];
  install: string[];
  addons: { apt: { packages: string[] }; snaps: Array<{ name: string; confinement?: string; channel?: string }> };
  env: { global: string[] };
  stages: Array<string | { name: string; if?: string }>;
  jobs: { include: Job[] };
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const travis = parse(readFileSync(join(REPO, '.travis.yml'), 'utf8')) as TravisConfig;
const job = (stage: string) => travis.jobs.include.find((candidate) => candidate.stage === stage)!;
const globalEnv = Object.fromEntries(
  travis.env.global.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
);

/**
 * Runs `commands` with bash as Travis would (from the repository root), with `docker` and `aws` on
 * PATH as test doubles that record their arguments and what they read on stdin.
 */
const bin = mkdtempSync(join(tmpdir(), 'travis-test-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const log = join(bin, 'calls.log');
for (const tool of ['docker', 'aws']) {
  writeFileSync(
    join(bin, tool),
    `#!/bin/bash
if [ "$1 $2" = "login -u" ] || [ "$1 $2" = "login --username" ]; then echo "${tool} $* <stdin:$(cat)>" >> "${log}"; else echo "${tool} $*" >> "${log}"; fi
[ "${tool} $1 $2" = "aws ecr get-login-password" ] && echo ecr-token
# buildx --push --metadata-file: what buildx writes there, a digest made from the pushed name
args=("$@"); for i in "\${!args[@]}"; do case "\${args[$i]}" in --tag) name=\${args[$((i+1))]};; --metadata-file) meta=\${args[$((i+1))]};; esac; done
[ -z "$meta" ] || printf '{"containerimage.digest":"sha256:%s","image.name":"%s"}' "$(printf %s "$name" | sha256sum | cut -c1-64)" "$name" > "$meta"
[ -z "$FAIL_ON" ] || [[ "$*" != *"$FAIL_ON"* ]]
`,
  );
  chmodSync(join(bin, tool), 0o755);
}

function run(commands: string[], env: Record<string, string>): { calls: string[]; ok: boolean } {
  rmSync(log, { force: true });
  let ok = true;
  try {
    execFileSync('bash', ['-ec', commands.join('\n')], {
      cwd: REPO,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, FAIL_ON: '', ...env },
      stdio: 'pipe',
    });
  } catch {
    ok = false;
  }
  let calls: string[] = [];
  try {
    calls = readFileSync(log, 'utf8').trim().split('\n');
  } catch {
    // nothing was called
  }
  return { calls, ok };
}

const SERVICES = ['client', 'server', 'worker', 'nginx'];
const pushStep = job('test').script.find((line) => line.includes('release-images push'))!;
const main = {
  RELEASE_DIST: join(bin, 'dist'),
  TRAVIS_BRANCH: 'main',
  TRAVIS_EVENT_TYPE: 'push',
  IMAGE_TAG: 'abc123',
  DOCKER_ID: 'acme',
  DOCKER_PASSWORD: 's3cret',
  ECR_REGISTRY: '',
  ECR_REGION: '',
};

describe('.travis.yml', { timeout: 30_000 }, () => {
  it('runs the tests of .ci/test-gate, as .ci/run does, with what they need: Redis, Chromium, kubectl, promtool', () => {
    // The gate runs the README's test command, and Travis runs no test command of its own beside the gate.
    const readmeCommand = /## Test it\s+```sh\s+([^\n]+)\n/.exec(readFileSync(join(REPO, 'README.md'), 'utf8'))![1]!;
    expect(readmeCommand).toBe('npm ci && npm test');
    expect(travis.install).toEqual(['npm ci']);
    const gateCommands = readFileSync(join(REPO, '.ci/test-gate'), 'utf8').split('\n');
    expect(gateCommands).toEqual(
      expect.arrayContaining(['npm test', 'npm run test:native', 'npm run test:chaos', 'npm run test:containers']),
    );
    expect(job('test').script.filter((line) => /npm (test|run test)|vitest/.test(line))).toEqual([]);
    expect(job('test').script).toContain('.ci/test-gate');
    expect(readFileSync(join(REPO, '.ci/run'), 'utf8').trimEnd().split('\n').at(-1)).toBe('exec .ci/test-gate');
    expect(travis.before_install).toEqual(['sudo .ci/install-promtool']);
    expect(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts.test).toMatch(/npm run test:e2e|vitest run --project e2e/);
    expect(travis.addons.apt.packages).toContain('redis-server');
    expect(travis.addons.snaps.map((snap) => snap.name)).toEqual(expect.arrayContaining(['chromium', 'kubectl', 'aws-cli']));
    expect(travis.addons.snaps.find((snap) => snap.name === 'kubectl')).toMatchObject({
      confinement: 'classic',
      channel: expect.stringMatching(/^1\.(2[7-9]|3\d)\//),
    });
    expect(globalEnv.CHROMIUM_PATH).toBe('/snap/bin/chromium');
    expect(travis.services).toContain('docker');
  });

  it('tests the containers on the release build before pushing it, and pushes only from main', () => {
    const steps = job('test').script;
    const at = (needle: string) => steps.findIndex((line) => line.includes(needle));
    expect(at('release-images build')).toBeGreaterThan(at('release-images setup'));
    expect(at('.ci/test-gate')).toBeGreaterThan(at('release-images build'));
    expect(at('release-images push')).toBeGreaterThan(at('.ci/test-gate'));
    // Compose builds through the release builder, so the suite runs images from the release cache.
    const setup = readFileSync(join(REPO, 'scripts/release-images'), 'utf8');
    expect(setup).toContain(`builder=${globalEnv.BUILDX_BUILDER}`);
    expect(globalEnv).toMatchObject({ DOCKER_BUILDKIT: '1', COMPOSE_DOCKER_CLI_BUILD: '1' });
    expect(run([pushStep], { ...main, TRAVIS_EVENT_TYPE: 'pull_request' })).toEqual({ calls: [], ok: true });
    expect(run([pushStep], { ...main, TRAVIS_BRANCH: 'feature' })).toEqual({ calls: [], ok: true });
  });

  it('runs mutation testing in scheduled builds only, every mutant, failing below a floor', async () => {
    expect(job('mutation').script).toEqual(['npm run test:mutation -- --force']);
    expect(travis.stages).toContainEqual({ name: 'mutation', if: 'type = cron' });
    expect(travis.stages).toContainEqual({ name: 'test', if: 'type != cron' });
    const stryker = (await import(join(REPO, 'stryker.config.mjs'))) as { default: { thresholds: { break: number | null } } };
    expect(stryker.default.thresholds.break).toBeGreaterThanOrEqual(80);
  });

  it('builds all four images for linux/amd64 and linux/arm64 with buildx, pushing nothing', () => {
    const { calls, ok } = run(['scripts/release-images setup', 'scripts/release-images build'], {});
    expect(ok).toBe(true);
    expect(calls).toEqual([
      `docker run --privileged --rm ${(JSON.parse(readFileSync(join(REPO, 'base-images.json'), 'utf8')) as { binfmt: string }).binfmt} --install arm64`,
      'docker buildx create --name fibstack --driver docker-container --bootstrap',
      ...SERVICES.map((service) => `docker buildx build --builder fibstack --platform linux/amd64,linux/arm64 -f ${service}/Dockerfile .`),
    ]);
  });

  it('on main, logs in to Docker Hub through stdin and pushes each multi-arch image by commit SHA only', () => {
    const { calls, ok } = run([pushStep], main);
    expect(ok).toBe(true);
    expect(calls[0]).toBe('docker login -u acme --password-stdin <stdin:s3cret>');
    expect(calls.slice(1).join('\n')).not.toContain('s3cret');
    expect(calls.slice(1)).toEqual(
      SERVICES.map(
        (service) =>
          `docker buildx build --builder fibstack --platform linux/amd64,linux/arm64 -f ${service}/Dockerfile --tag acme/fibstack-${service}:abc123 --push --metadata-file ${main.RELEASE_DIST}/images/${service}.json .`,
      ),
    );
    // What was pushed, by digest: the deploys read this record, not the tag.
    const pushed = JSON.parse(readFileSync(join(main.RELEASE_DIST, 'images.json'), 'utf8')) as Record<string, string>;
    const digestOf = (name: string) => `sha256:${execFileSync('sha256sum', { input: name, encoding: 'utf8' }).slice(0, 64)}`;
    expect(pushed).toEqual(
      Object.fromEntries(SERVICES.map((service) => [service, `acme/fibstack-${service}@${digestOf(`acme/fibstack-${service}:abc123`)}`])),
    );
  });

  it('pushes to Amazon ECR instead when ECR_REGISTRY is set', () => {
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const { calls, ok } = run([pushStep], { ...main, ECR_REGISTRY: registry, ECR_REGION: 'eu-west-1' });
    expect(ok).toBe(true);
    expect(calls.slice(0, 2)).toEqual([
      'aws ecr get-login-password --region eu-west-1',
      `docker login --username AWS --password-stdin ${registry} <stdin:ecr-token>`,
    ]);
    expect(calls[2]).toBe(
      `docker buildx build --builder fibstack --platform linux/amd64,linux/arm64 -f client/Dockerfile --tag ${registry}/fibstack-client:abc123 --push --metadata-file ${main.RELEASE_DIST}/images/client.json .`,
    );
  });

  it('stops at the first failed push', () => {
    const { calls, ok } = run([pushStep], { ...main, FAIL_ON: 'fibstack-server:abc123' });
    expect(ok).toBe(false);
    expect(calls.at(-1)).toContain('-f server/Dockerfile');
    expect(calls.join('\n')).not.toContain('worker/Dockerfile');
  });

  it('deploys only from pushes to main, after the test stage passed, never from before_deploy', () => {
    expect(travis.stages.map((stage) => (typeof stage === 'string' ? stage : stage.name))).toEqual(['test', 'mutation', 'deploy']);
    expect(travis.stages[2]).toEqual({ name: 'deploy', if: 'branch = main AND type = push' });
    expect(JSON.stringify(travis)).not.toContain('before_deploy');
    expect(travis.jobs.include.filter((candidate) => candidate.deploy).map((candidate) => candidate.stage)).toEqual(['deploy']);
    expect(travis.jobs.include.filter((candidate) => JSON.stringify(candidate).includes('deploy-eks')).map((job) => job.stage)).toEqual([
      'deploy',
    ]);
  });

  it('deploys the pushed images: the Elastic Beanstalk bundle for the commit', () => {
    expect(job('deploy').script).toEqual(['DOCKER_ID="${ECR_REGISTRY:-$DOCKER_ID}" scripts/eb-bundle dist/eb-bundle.zip']);
    expect(globalEnv.IMAGE_TAG).toBe('$TRAVIS_COMMIT');
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

  it('deploys to EKS in a job of its own: independent of Elastic Beanstalk, skipped without a cluster, bounded in time', () => {
    const deploys = travis.jobs.include.filter((candidate) => candidate.stage === 'deploy');
    const eks = deploys.filter((candidate) => JSON.stringify(candidate).includes('scripts/deploy-eks'));
    expect(eks).toHaveLength(1);
    expect(JSON.stringify(eks[0])).not.toContain('elasticbeanstalk');
    expect(eks[0]!.if).toBe('env(EKS_CLUSTER) IS present');
    expect(eks[0]!.script).toEqual(['IMAGE_REGISTRY="${ECR_REGISTRY:-$DOCKER_ID}" scripts/deploy-eks']);
    const eb = deploys.filter((candidate) => JSON.stringify(candidate).includes('elasticbeanstalk'));
    expect(eb).toHaveLength(1);
    expect(JSON.stringify(eb[0])).not.toContain('deploy-eks');
  });
});
