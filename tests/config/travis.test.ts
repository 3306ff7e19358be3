import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';

interface Job {
  stage: string;
  name?: string;
  if?: string;
  env?: string[];
  services?: string[];
  addons?: { apt?: { packages: string[] }; snaps?: Array<{ name: string; confinement?: string; channel?: string }> };
  before_install?: string[];
  install?: string[];
  script: string[];
  deploy?: unknown;
  workspaces?: { create?: { name: string; paths: string[] }; use?: string | string[] };
}

interface TravisConfig {
  services?: string[];
  install?: string[];
  env: { global: string[] };
  stages: Array<string | { name: string; if?: string }>;
  jobs: { include: Job[] };
}

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const travis = parse(readFileSync(join(REPO, '.travis.yml'), 'utf8')) as TravisConfig;
const job = (stage: string) => travis.jobs.include.find((candidate) => candidate.stage === stage)!;
const jobsIn = (stage: string) => travis.jobs.include.filter((candidate) => candidate.stage === stage);
const envOf = (lines: string[] = []) =>
  Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
const globalEnv = envOf(travis.env.global);
const testEnv = envOf(job('test').env);
/** The settings Travis holds for the push and the deploys (.ci/deploy-secrets, one name a line). */
const SECRETS = readFileSync(join(REPO, '.ci/deploy-secrets'), 'utf8')
  .split('\n')
  .filter((line) => line && !line.startsWith('#'));
/** Jobs that run packages' install scripts (`npm ci` without --ignore-scripts). */
const installsWithScripts = (candidate: Job) =>
  (candidate.install ?? []).some((line) => /npm (ci|install)(?!.*--ignore-scripts)/.test(line));

/**
 * Runs `commands` with bash as Travis would (from the repository root), with `docker`, `aws` and, when asked,
 * `node` on PATH as test doubles that record their arguments (node: with the registry credentials it was given).
 */
const bin = mkdtempSync(join(tmpdir(), 'travis-test-'));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const log = join(bin, 'calls.log');
const withNode = join(bin, 'with-node');
mkdirSync(withNode);
for (const [dir, tool] of [
  [bin, 'docker'],
  [bin, 'aws'],
  [withNode, 'node'],
] as const) {
  writeFileSync(
    join(dir, tool),
    `#!/bin/bash
if [ ${tool} = node ]; then echo "node $* (user '$REGISTRY_USERNAME' password '$REGISTRY_PASSWORD')" >> "${log}"; else echo "${tool} $*" >> "${log}"; fi
[ -z "$FAIL_ON" ] || [[ "$*" != *"$FAIL_ON"* ]]
`,
  );
  chmodSync(join(dir, tool), 0o755);
}

function run(commands: string[], env: Record<string, string>, { node = false } = {}): { calls: string[]; ok: boolean } {
  rmSync(log, { force: true });
  let ok = true;
  try {
    execFileSync('bash', ['-ec', commands.join('\n')], {
      cwd: REPO,
      env: { ...process.env, PATH: `${node ? `${withNode}:` : ''}${bin}:${process.env.PATH}`, FAIL_ON: '', ...env },
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

/** A job's `script` as Travis runs it: each step in the same shell, the next one even after a failed one. */
const asTravisRuns = (steps: string[]) => ['set +e', ...steps.map((step) => `${step}\n[ $? -eq 0 ] || failed=1`), 'exit "${failed:-0}"'];

const SERVICES = ['client', 'server', 'worker', 'nginx'];
const dist = join(bin, 'dist');
const main = {
  RELEASE_DIST: dist,
  TRAVIS_BRANCH: 'main',
  TRAVIS_EVENT_TYPE: 'push',
  IMAGE_TAG: 'abc123',
  DOCKER_ID: 'acme',
  DOCKER_PASSWORD: 's3cret',
  ECR_REGISTRY: '',
  ECR_REGION: '',
  REGISTRY_USERNAME: '',
  REGISTRY_PASSWORD: '',
};
const pushCall = (registry: string, credentials: string) =>
  `node scripts/push-images.mjs --registry ${registry} --tag abc123 --from ${dist}/oci --images ${dist}/images.json ${credentials}`;

describe('.travis.yml', { timeout: 30_000 }, () => {
  it('runs the tests of .ci/test-gate, as .ci/run does, with what they need: Redis, Chromium, kubectl, promtool', () => {
    // The gate runs the README's test command, and Travis runs no test command of its own beside the gate.
    const readmeCommand = /## Test it\s+```sh\s+([^\n]+)\n/.exec(readFileSync(join(REPO, 'README.md'), 'utf8'))![1]!;
    expect(readmeCommand).toBe('npm ci && npm test');
    expect(job('test').install).toEqual(['npm ci']);
    const gateCommands = readFileSync(join(REPO, '.ci/test-gate'), 'utf8').split('\n');
    expect(gateCommands).toEqual(
      expect.arrayContaining(['npm test', 'npm run test:native', 'npm run test:chaos', 'npm run test:containers']),
    );
    expect(job('test').script.filter((line) => /npm (test|run test)|vitest/.test(line))).toEqual([]);
    expect(job('test').script).toContain('.ci/test-gate');
    expect(readFileSync(join(REPO, '.ci/run'), 'utf8').trimEnd().split('\n').at(-1)).toBe('exec .ci/test-gate');
    expect(job('test').before_install).toContain('sudo .ci/install-promtool');
    expect(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).scripts.test).toMatch(/npm run test:e2e|vitest run --project e2e/);
    expect(job('test').addons!.apt!.packages).toContain('redis-server');
    expect(job('test').addons!.snaps!.map((snap) => snap.name)).toEqual(expect.arrayContaining(['chromium', 'kubectl']));
    expect(job('test').addons!.snaps!.find((snap) => snap.name === 'kubectl')).toMatchObject({
      confinement: 'classic',
      channel: expect.stringMatching(/^1\.(2[7-9]|3\d)\//),
    });
    expect(testEnv.CHROMIUM_PATH).toBe('/snap/bin/chromium');
    expect(job('test').services).toContain('docker');
  });

  it('audits every dependency, development ones too, at moderate severity, in the test job', () => {
    expect(job('test').script[0]).toBe('npm run audit');
    const audit = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.audit!;
    expect(audit).toMatch(/^npm audit --audit-level=moderate$/);
  });

  it('tests the containers on the release build, exports it with its SBOMs, and pushes it only from main, in a later job', () => {
    const steps = job('test').script;
    const at = (needle: string) => steps.findIndex((line) => line.includes(needle));
    expect(at('release-images build')).toBeGreaterThan(at('release-images setup'));
    expect(at('sbom.mjs generate')).toBeGreaterThan(at('release-images build'));
    expect(at('.ci/test-gate')).toBeGreaterThan(at('release-images build'));
    expect(steps.join('\n')).not.toMatch(/push|sign|attach/);
    // What the push job pushes is what this job built and tested: handed over as files, not built again.
    expect(job('test').workspaces!.create).toEqual({ name: 'release', paths: ['dist/oci', 'dist/sbom'] });
    expect(jobsIn('push')).toHaveLength(1);
    expect(job('push').workspaces!.use).toBe('release');
    expect(job('push').script.join('\n')).not.toMatch(/release-images (setup|build)|buildx|docker/);
    // Compose builds through the release builder, so the suite runs images from the release cache.
    const setup = readFileSync(join(REPO, 'scripts/release-images'), 'utf8');
    expect(setup).toContain(`builder=${testEnv.BUILDX_BUILDER}`);
    expect(testEnv).toMatchObject({ DOCKER_BUILDKIT: '1', COMPOSE_DOCKER_CLI_BUILD: '1' });
  });

  it('runs mutation testing in scheduled builds only, every mutant, failing below a floor', async () => {
    expect(job('mutation').script).toEqual(['npm run test:mutation -- --force']);
    expect(travis.stages).toContainEqual({ name: 'mutation', if: 'type = cron' });
    expect(travis.stages).toContainEqual({ name: 'test', if: 'type != cron' });
    const stryker = (await import(join(REPO, 'tests/mutation/stryker.config.mjs'))) as {
      default: { thresholds: { break: number | null } };
    };
    expect(stryker.default.thresholds.break).toBeGreaterThanOrEqual(80);
  });

  it('builds all four images for linux/amd64 and linux/arm64 and exports each as an OCI layout, pushing nothing', () => {
    const { calls, ok } = run(['scripts/release-images setup', 'scripts/release-images build'], {
      RELEASE_DIST: dist,
      IMAGE_TAG: 'abc123',
    });
    expect(ok).toBe(true);
    // The emulator runs privileged: pinned by digest, from base-images.json.
    const binfmt = (JSON.parse(readFileSync(join(REPO, 'base-images.json'), 'utf8')) as { binfmt: string }).binfmt;
    expect(binfmt).toMatch(/^tonistiigi\/binfmt:[\w.-]+@sha256:[0-9a-f]{64}$/);
    expect(calls).toEqual([
      `docker run --privileged --rm ${binfmt} --install arm64`,
      'docker buildx create --name fibstack --driver docker-container --bootstrap',
      ...SERVICES.map(
        (service) =>
          `docker buildx build --builder fibstack --platform linux/amd64,linux/arm64 -f ${service}/Dockerfile` +
          (service === 'server' || service === 'worker' ? ' --build-arg FIBSTACK_VERSION=abc123' : '') +
          ` --output type=oci,dest=${dist}/oci/${service}.tar .`,
      ),
    ]);
  });

  it('holds no credential in the jobs that run install scripts: they unset every setting before anything runs', () => {
    const withScripts = travis.jobs.include.filter(installsWithScripts);
    expect(withScripts.map((candidate) => candidate.stage).sort()).toEqual(['mutation', 'test']);
    const everySecret = Object.fromEntries(SECRETS.map((name) => [name, `secret-${name}`]));
    for (const candidate of withScripts) {
      const [first] = candidate.before_install ?? [];
      // Run as Travis runs the phases (one shell): what every later command, `npm ci` first, inherits.
      const { calls, ok } = run([first!, 'docker env-after "$(env)"'], everySecret);
      expect(ok, candidate.stage).toBe(true);
      expect(calls.join('\n'), candidate.stage).not.toContain('secret-');
    }
    // Every setting the push and deploy jobs read is in that list.
    const read = new Set(
      [...jobsIn('push'), ...jobsIn('deploy')].flatMap((candidate) =>
        [...JSON.stringify(candidate).matchAll(/\$\{?([A-Z][A-Z0-9_]*)/g)].map((match) => match[1]!),
      ),
    );
    expect([...read].filter((name) => !SECRETS.includes(name) && !name.startsWith('TRAVIS_'))).toEqual([]);
    // .ci/README.md says which job holds which, and every setting its table gives a push or deploy job
    // (the aws CLI's and the scripts' too, which .travis.yml never names) is in that list.
    const readme = readFileSync(join(REPO, '.ci/README.md'), 'utf8');
    expect(SECRETS.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
    const held = readme
      .split('\n')
      .filter((line) => /^\| (push|deploy) \|/.test(line))
      .flatMap((line) =>
        [...line.slice(line.lastIndexOf('|', line.length - 2)).matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]!),
      );
    expect(held.length).toBeGreaterThan(10);
    expect(held.filter((name) => !SECRETS.includes(name))).toEqual([]);
  });

  it("the jobs that hold credentials install nothing with install scripts and run only the repository's scripts", () => {
    const privileged = [...jobsIn('push'), ...jobsIn('deploy')];
    expect(privileged).toHaveLength(3);
    for (const candidate of privileged) {
      const name = candidate.name!;
      expect(candidate.install, name).toEqual(['npm ci --ignore-scripts']);
      expect(candidate.before_install, name).toBeUndefined();
      expect(candidate.deploy, name).toBeUndefined();
      expect(candidate.services, name).toBeUndefined();
      expect(candidate.addons?.apt, name).toBeUndefined();
      const commands = candidate.script.flatMap((step) => step.split('\n')).map((line) => line.trim());
      for (const command of commands.filter((line) => /^[a-z]/.test(line) && !/^(if|then|else|fi|set|export)\b/.test(line))) {
        expect(command, name).toMatch(/^(IMAGE_REGISTRY="\$\{ECR_REGISTRY:-\$DOCKER_ID\}" )?(scripts\/[\w-]+|node scripts\/[\w-]+\.mjs)\b/);
      }
      for (const snap of candidate.addons?.snaps ?? []) expect(['aws-cli', 'kubectl'], name).toContain(snap.name);
    }
  });

  it('on main, pushes the tested exports with the Docker Hub credentials, then attaches the SBOMs and signs', () => {
    const { calls, ok } = run(asTravisRuns(job('push').script), main, { node: true });
    expect(ok).toBe(true);
    expect(calls).toEqual([
      pushCall('acme', "(user 'acme' password 's3cret')"),
      "node scripts/sbom.mjs attach (user 'acme' password 's3cret')",
      "node scripts/sign-images.mjs (user 'acme' password 's3cret')",
    ]);
  });

  it("pushes to Amazon ECR instead when ECR_REGISTRY is set, with the aws CLI's token rather than a password", () => {
    const registry = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    const { calls, ok } = run(
      asTravisRuns(job('push').script),
      { ...main, ECR_REGISTRY: registry, ECR_REGION: 'eu-west-1' },
      { node: true },
    );
    expect(ok).toBe(true);
    expect(calls[0]).toBe(pushCall(registry, "(user '' password '')"));
  });

  it('attaches and signs nothing when the push fails', () => {
    const { calls, ok } = run(asTravisRuns(job('push').script), { ...main, FAIL_ON: 'push-images' }, { node: true });
    expect(ok).toBe(false);
    expect(calls).toEqual([pushCall('acme', "(user 'acme' password 's3cret')")]);
  });

  it('pushes and deploys only from pushes to main, after the test stage passed, never through dpl', () => {
    expect(travis.stages.map((stage) => (typeof stage === 'string' ? stage : stage.name))).toEqual(['test', 'mutation', 'push', 'deploy']);
    expect(travis.stages[2]).toEqual({ name: 'push', if: 'branch = main AND type = push' });
    expect(travis.stages[3]).toEqual({ name: 'deploy', if: 'branch = main AND type = push' });
    const text = JSON.stringify(travis);
    expect(text).not.toContain('before_deploy');
    // dpl (and its pre-release `edge: true`) is gone: scripts/deploy-eb deploys with the aws CLI.
    expect(travis.jobs.include.filter((candidate) => candidate.deploy)).toEqual([]);
    expect(text).not.toMatch(/"edge"|elasticbeanstalk"/);
    expect(travis.jobs.include.filter((candidate) => JSON.stringify(candidate).includes('deploy-eks')).map((found) => found.stage)).toEqual(
      ['deploy'],
    );
  });

  it('deploys the signed images by digest: Elastic Beanstalk, and EKS in a job of its own, skipped without a cluster', () => {
    expect(globalEnv.IMAGE_TAG).toBe('$TRAVIS_COMMIT');
    const deploys = jobsIn('deploy');
    expect(deploys.map((candidate) => candidate.script)).toEqual([['scripts/deploy-eb'], ['scripts/deploy-eks']]);
    // Both read the digests the push job recorded, nothing else from it.
    expect(job('push').workspaces!.create).toEqual({ name: 'images', paths: ['dist/images.json'] });
    for (const candidate of deploys) expect(candidate.workspaces).toEqual({ use: 'images' });
    expect(deploys[0]!.if).toBeUndefined();
    expect(deploys[1]!.if).toBe('env(EKS_CLUSTER) IS present');
    expect(deploys[1]!.addons!.snaps!.find((snap) => snap.name === 'kubectl')).toMatchObject({
      channel: job('test').addons!.snaps!.find((snap) => snap.name === 'kubectl')!.channel,
    });
  });
});
