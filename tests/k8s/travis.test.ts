import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

interface TravisConfig {
  services: string[];
  script: string[];
  before_deploy: string[];
  deploy: Array<Record<string, unknown> & { provider: string; on: Record<string, string> }>;
}

const travis = parse(readFileSync(fileURLToPath(new URL('../../.travis.yml', import.meta.url)), 'utf8')) as TravisConfig;
const steps = [...travis.script, ...travis.before_deploy].join('\n');

describe('.travis.yml', () => {
  it('runs Docker and tests inside an image built from the source, with CI=true', () => {
    expect(travis.services).toContain('docker');
    expect(steps).toMatch(/docker build -f Dockerfile\.test -t fibstack-test \./);
    expect(steps).toMatch(/docker run --rm -e CI=true fibstack-test/);
  });

  it('logs in to Docker Hub through stdin and pushes all four images by commit and as latest', () => {
    expect(steps).toContain('echo "$DOCKER_PASSWORD" | docker login -u "$DOCKER_ID" --password-stdin');
    expect(steps).toMatch(/for service in client server worker nginx; do/);
    expect(steps).toContain('docker push "$DOCKER_ID/fibstack-$service:$TRAVIS_COMMIT"');
    expect(steps).toContain('docker push "$DOCKER_ID/fibstack-$service:latest"');
    expect(steps).toContain('scripts/eb-bundle dist/eb-bundle.zip');
  });

  it('deploys the bundle to Elastic Beanstalk with dpl v2, from main only, with settings from variables', () => {
    const eb = travis.deploy.find((step) => step.provider === 'elasticbeanstalk')!;
    expect(eb).toMatchObject({
      edge: true,
      access_key_id: '$AWS_ACCESS_KEY_ID',
      secret_access_key: '$AWS_SECRET_ACCESS_KEY',
      region: '$EB_REGION',
      app: '$EB_APP',
      env: '$EB_ENV',
      bucket: '$EB_BUCKET',
      zip_file: 'dist/eb-bundle.zip',
      on: { branch: 'main' },
    });
  });

  it('rolls out to EKS only on main when a cluster is configured', () => {
    const eks = travis.deploy.find((step) => step.provider === 'script')!;
    expect(eks).toMatchObject({ edge: true, script: 'scripts/deploy-eks', on: { branch: 'main' } });
    expect(eks.on.condition).toContain('EKS_CLUSTER');
    const script = readFileSync(fileURLToPath(new URL('../../scripts/deploy-eks', import.meta.url)), 'utf8');
    expect(script).toContain('aws eks update-kubeconfig');
    expect(script).toContain('kubectl apply -f k8s');
    expect(script).toMatch(/kubectl -n fibstack set image deployment\/server/);
    expect(script).toContain('rollout status');
  });
});
