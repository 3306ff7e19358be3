import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../support/kubernetes-schema.js';
import { render, renderRefusal } from '../support/kustomize-render.js';

/**
 * The gateway-api component in front of the edge, with the AWS Load Balancer Controller's Gateway
 * support (gateway-api-aws: an ALB) or with an in-cluster implementation (its own GatewayClass).
 */
const named = (objects: KubeObject[], kind: string, name?: string) =>
  objects.filter((object) => object.kind === kind && (name === undefined || object.metadata.name === name));

describe('gateway-api with the AWS Load Balancer Controller (gateway-api-aws)', () => {
  const objects = render({ overlay: 'eks', components: ['gateway-api', 'gateway-api-aws'] });

  it('the GatewayClass is the controller’s ALB class; the Gateway is internet-facing through a LoadBalancerConfiguration', () => {
    const [gateway] = named(objects, 'Gateway');
    const spec = gateway!.spec as {
      gatewayClassName: string;
      infrastructure?: { parametersRef?: { group: string; kind: string; name: string } };
    };
    const [gatewayClass] = named(objects, 'GatewayClass', spec.gatewayClassName);
    expect(gatewayClass?.spec).toMatchObject({ controllerName: 'gateway.k8s.aws/alb' });
    expect(spec.infrastructure?.parametersRef).toMatchObject({ group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration' });
    const [config] = named(objects, 'LoadBalancerConfiguration', spec.infrastructure!.parametersRef!.name);
    expect(config?.metadata.namespace).toBe(gateway!.metadata.namespace);
    expect(config?.spec).toMatchObject({ scheme: 'internet-facing' });
  });

  it('the edge Service (ClusterIP) gets IP targets through a TargetGroupConfiguration, health-checked on its health port', () => {
    expect(named(objects, 'Service', 'edge')[0]!.spec).toMatchObject({ type: 'ClusterIP' });
    const [targets] = named(objects, 'TargetGroupConfiguration');
    expect(targets?.spec).toMatchObject({
      targetReference: { name: 'edge' },
      defaultConfiguration: { targetType: 'ip' },
    });
  });
});

describe('gateway-api: nonsense combinations are refused by the render, saying why', () => {
  it('with nlb-tls (which configures the NLB the Gateway replaces)', () => {
    expect(renderRefusal({ overlay: 'eks', components: ['gateway-api', 'nlb-tls'] })).toMatch(
      /REFUSED: gateway-api and nlb-tls cannot be combined/,
    );
  });
});
