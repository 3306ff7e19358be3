import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { render, type Variant } from '../support/kustomize-render.js';

/**
 * What one deploy changes. Kubernetes rolls a Deployment or StatefulSet once per change of its pod
 * template, so a deploy that applies the final manifests once (scripts/deploy-eks) rolls each changed
 * workload exactly once; these tests check which templates a new commit or a settings change touches.
 */
const images = (tag: string): Variant['images'] =>
  ['server', 'worker', 'client', 'nginx'].map((service) => ({
    name: `YOUR_REGISTRY/fibstack-${service}`,
    newName: `acme/fibstack-${service}`,
    newTag: tag,
  }));

function templates(objects: KubeObject[]): Record<string, unknown> {
  return Object.fromEntries(
    objects
      .filter((object) => ['Deployment', 'StatefulSet', 'CronJob'].includes(object.kind))
      .map((object) => {
        const spec = object.spec as { template?: unknown; jobTemplate?: { spec: { template: unknown } } };
        return [`${object.kind}/${object.metadata.name}`, spec.template ?? spec.jobTemplate!.spec.template];
      }),
  );
}

const changed = (before: KubeObject[], after: KubeObject[]) => {
  const [a, b] = [templates(before), templates(after)];
  return Object.keys(a)
    .filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]))
    .sort();
};

const withoutImages = (value: unknown) => JSON.parse(JSON.stringify(value).replace(/"image":"[^"]*"/g, '"image":"-"'));

describe.each(['eks', 'eks-managed-data'])('overlays/%s: one deploy, one rollout per changed workload', (overlay) => {
  const first = render({ overlay, images: images('aaa111') });

  it('renders the same commit identically, so deploying it again rolls nothing', () => {
    expect(render({ overlay, images: images('aaa111') })).toEqual(first);
  });

  it('a new commit changes only the images: the four app Deployments roll, the stores and the backup do not', () => {
    const next = render({ overlay, images: images('bbb222') });
    expect(changed(first, next)).toEqual(['Deployment/client', 'Deployment/edge', 'Deployment/server', 'Deployment/worker']);
    expect(withoutImages(templates(next))).toEqual(withoutImages(templates(first)));
    expect(JSON.stringify(templates(next))).not.toContain('aaa111');
  });

  it('a settings change renames the hashed ConfigMap and rolls exactly the pods that read it', () => {
    const next = render({ overlay, images: images('aaa111'), config: { LOG_LEVEL: 'debug' } });
    const configName = (objects: KubeObject[]) =>
      objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name.startsWith('fibstack-config-'))!.metadata.name;
    expect(configName(next)).not.toBe(configName(first));
    const readers = Object.entries(templates(first))
      .filter(([, template]) => JSON.stringify(template).includes(configName(first)))
      .map(([key]) => key)
      .sort();
    expect(readers).toEqual(expect.arrayContaining(['Deployment/server', 'Deployment/worker']));
    expect(readers).not.toContain('StatefulSet/postgres');
    expect(changed(first, next)).toEqual(readers);
  });
});
