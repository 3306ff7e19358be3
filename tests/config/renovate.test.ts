import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { baseImages, COMPOSE_FILE, DOCKERFILE, trackedFiles } from '../support/image-references.js';
import { REPO } from '../support/kustomize-render.js';
import { RENOVATE_CONFIG_SCHEMA } from './renovate-config-schema.js';

interface CustomManager {
  managerFilePatterns: string[];
  matchStrings: string[];
  datasourceTemplate: string;
  extractVersionTemplate?: string;
}
interface PackageRule {
  matchPackageNames?: string[];
  matchDatasources?: string[];
  groupName?: string;
}
interface RenovateConfig {
  enabledManagers: string[];
  pinDigests: boolean;
  customManagers: CustomManager[];
  packageRules: PackageRule[];
}

const read = (file: string) => readFileSync(join(REPO, file), 'utf8');
const config = JSON.parse(read('renovate.json')) as RenovateConfig;
const imageManager = config.customManagers.find((manager) => manager.datasourceTemplate === 'docker')!;
const addonManager = config.customManagers.find((manager) => manager.datasourceTemplate === 'aws-eks-addon')!;

/** Renovate's "/regex/" file patterns as JavaScript regular expressions. */
const fileMatchers = (manager: CustomManager) => manager.managerFilePatterns.map((pattern) => new RegExp(pattern.slice(1, -1)));
const covers = (manager: CustomManager, file: string) => fileMatchers(manager).some((pattern) => pattern.test(file));
/** What a regex manager extracts from `text`: each match's named groups. */
const extract = (manager: CustomManager, text: string) =>
  manager.matchStrings.flatMap((source) => [...text.matchAll(new RegExp(source, 'g'))].map((match) => ({ ...match.groups })));

describe('renovate.json', () => {
  it('uses only options Renovate documents, each with its documented type (tests/config/renovate-config-schema.ts)', () => {
    const validate = new Ajv({ allErrors: true }).compile(RENOVATE_CONFIG_SCHEMA);
    const errors = (object: unknown) => (validate(object) ? [] : validate.errors!.map((error) => `${error.instancePath} ${error.message}`));
    expect(errors(config)).toEqual([]);
    // The check can fail: a wrong type, an unknown update type, and options Renovate does not know (a misspelling,
    // an old name).
    expect(errors({ ...config, pinDigests: 'yes' })).toEqual(['/pinDigests must be boolean']);
    expect(errors({ ...config, pinDigestz: true })).toEqual([' must NOT have additional properties']);
    expect(errors({ ...config, customManagers: [{ ...imageManager, fileMatch: ['x'] }] })).toEqual([
      '/customManagers/0 must NOT have additional properties',
    ]);
    expect(errors({ ...config, packageRules: [{ ...config.packageRules[0], matchUpdateTypes: ['digests'] }] })).toContain(
      '/packageRules/0/matchUpdateTypes/0 must be equal to one of the allowed values',
    );
  });

  it('sees every pinned base image, in base-images.json and in every copy, as one docker dependency each', () => {
    expect(config.enabledManagers).toEqual(expect.arrayContaining(['npm', 'custom.regex']));
    expect(config.pinDigests).toBe(true);
    const declared = Object.values(baseImages());
    const fromDeclaration = extract(imageManager, read('base-images.json'));
    expect(fromDeclaration.map(({ depName, currentValue, currentDigest }) => `${depName}:${currentValue}@${currentDigest}`).sort()).toEqual(
      [...declared].sort(),
    );
    // Every file that carries a pinned copy is one Renovate reads, so one pull request updates all of them.
    const carriers = trackedFiles(/./).filter(
      (file) => file !== 'base-images.json' && declared.some((image) => existsSync(join(REPO, file)) && read(file).includes(image)),
    );
    expect(carriers).toEqual(expect.arrayContaining(['server/Dockerfile', 'docker-compose.yml', 'k8s/20-postgres.yaml']));
    const unread = carriers.filter((file) => !covers(imageManager, file) && !file.startsWith('tests/') && file !== 'renovate.json');
    expect(unread).toEqual([]);
    for (const file of [...trackedFiles(DOCKERFILE), ...trackedFiles(COMPOSE_FILE)]) expect(covers(imageManager, file), file).toBe(true);
  });

  it('updates OpenTelemetry as one group covering every @opentelemetry package the workspaces use', () => {
    const otelRule = config.packageRules.find((rule) => rule.groupName === 'OpenTelemetry')!;
    expect(otelRule.matchPackageNames).toEqual(['@opentelemetry/**']);
    const used = ['package.json', 'service-kit/package.json', 'server/package.json', 'worker/package.json'].flatMap((file) => {
      const manifest = JSON.parse(read(file)) as { dependencies?: object; devDependencies?: object };
      return Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((name) => name.includes('opentelemetry'));
    });
    expect(used.length).toBeGreaterThan(3);
    expect(used.filter((name) => !name.startsWith('@opentelemetry/'))).toEqual([]);
  });

  it("reads the EKS add-on versions as eksctl's ClusterConfig pins them (vX.Y. = the newest vX.Y.z-eksbuild.N)", () => {
    const sample =
      'addons:\n  - name: vpc-cni\n    version: v1.22.\n    useDefaultPodIdentityAssociations: true\n  - name: coredns\n    version: v1.12.\n';
    expect(extract(addonManager, sample)).toEqual([
      { depName: 'vpc-cni', currentValue: 'v1.22.' },
      { depName: 'coredns', currentValue: 'v1.12.' },
    ]);
    expect(new RegExp(addonManager.extractVersionTemplate!).exec('v1.22.3-eksbuild.1')?.groups?.version).toBe('v1.22.');
    expect(config.packageRules.find((rule) => rule.matchDatasources?.includes('aws-eks-addon'))?.groupName).toBe('EKS add-ons');
    if (existsSync(join(REPO, 'eks/cluster.yaml'))) {
      const cluster = parse(read('eks/cluster.yaml')) as { addons: Array<{ name: string; version: string }> };
      expect(covers(addonManager, 'eks/cluster.yaml')).toBe(true);
      expect(extract(addonManager, read('eks/cluster.yaml'))).toEqual(
        cluster.addons.map(({ name, version }) => ({ depName: name, currentValue: version })),
      );
    }
  });
});
