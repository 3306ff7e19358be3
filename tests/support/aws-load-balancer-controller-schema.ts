/**
 * JSON schemas of the AWS Load Balancer Controller's Gateway API kinds (gateway.k8s.aws/v1), which no
 * @kubernetes-models package models: written here from the controller's CRDs as of its v3.5.0 release
 * (config/crd/gateway in kubernetes-sigs/aws-load-balancer-controller), for the spec fields the
 * components may use, with their types and enums. Unknown fields are refused, as
 * `kubectl apply --validate=strict` refuses them; fields this project never sets are typed loosely.
 */
type Schema = Record<string, unknown>;

const strings: Schema = { type: 'array', items: { type: 'string' } };
const stringMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const keyValues: Schema = {
  type: 'array',
  items: {
    type: 'object',
    required: ['key', 'value'],
    additionalProperties: false,
    properties: { key: { type: 'string' }, value: { type: 'string' } },
  },
};

const targetGroupProps: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enableMultiCluster: { type: 'boolean' },
    healthCheckConfig: { type: 'object' },
    ipAddressType: { enum: ['ipv4', 'ipv6'] },
    nodeSelector: { type: 'object' },
    protocol: { enum: ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP'] },
    protocolVersion: { enum: ['HTTP1', 'HTTP2', 'GRPC'] },
    tags: stringMap,
    targetControlPort: { type: 'integer' },
    targetGroupAttributes: keyValues,
    targetGroupName: { type: 'string' },
    targetType: { enum: ['instance', 'ip'] },
  },
};

export const AWS_LOAD_BALANCER_CONTROLLER_SCHEMAS: Record<string, Schema> = {
  LoadBalancerConfiguration: {
    type: 'object',
    additionalProperties: false,
    properties: {
      customerOwnedIpv4Pool: { type: 'string' },
      defaultTargetGroupConfiguration: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { name: { type: 'string' } },
      },
      disableSecurityGroup: { type: 'boolean' },
      enableICMP: { type: 'boolean' },
      enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: { type: 'string' },
      ipAddressType: { enum: ['ipv4', 'dualstack', 'dualstack-without-public-ipv4'] },
      ipv4IPAMPoolId: { type: 'string' },
      listenerConfigurations: { type: 'array', items: { type: 'object', required: ['protocolPort'] } },
      loadBalancerAttributes: keyValues,
      loadBalancerName: { type: 'string' },
      loadBalancerSubnets: { type: 'array', items: { type: 'object' } },
      loadBalancerSubnetsSelector: { type: 'object' },
      manageBackendSecurityGroupRules: { type: 'boolean' },
      mergingMode: { enum: ['prefer-gateway', 'prefer-gateway-class'] },
      minimumLoadBalancerCapacity: { type: 'object' },
      scheme: { enum: ['internal', 'internet-facing'] },
      securityGroupPrefixes: strings,
      securityGroups: strings,
      shieldConfiguration: { type: 'object' },
      sourceRanges: strings,
      tags: stringMap,
      wafV2: { type: 'object' },
    },
  },
  TargetGroupConfiguration: {
    type: 'object',
    additionalProperties: false,
    properties: {
      defaultConfiguration: targetGroupProps,
      routeConfigurations: {
        type: 'array',
        items: { type: 'object', required: ['routeIdentifier', 'targetGroupProps'] },
      },
      targetReference: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: { group: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' } },
      },
    },
  },
};
