/**
 * Offline checks of the cluster as code, written for this project from the schemas of the tools that
 * read the files (no file of theirs is copied):
 * - EKSCTL_CLUSTER_CONFIG_SCHEMA: eksctl's ClusterConfig (eksctl.io/v1alpha5), from the JSON schema eksctl
 *   generates (pkg/apis/eksctl.io/v1alpha5/assets/schema.json, eksctl v0.230): every object there
 *   refuses properties it does not define; the types and enums below are its. The objects
 *   eks/cluster.yaml uses are described field by field; the rest of ClusterConfig's fields are accepted
 *   by name only.
 * - DLM_POLICY_DETAILS_SCHEMA: the PolicyDetails of Amazon Data Lifecycle Manager's
 *   CreateLifecyclePolicy (the API model the AWS CLI uses, dlm 2018-01-12), for snapshot policies.
 */
type Schema = Record<string, unknown>;

const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  additionalProperties: false,
  properties,
  ...(required.length ? { required } : {}),
});
const string: Schema = { type: 'string' };
const boolean: Schema = { type: 'boolean' };
const integer: Schema = { type: 'integer' };
const strings: Schema = { type: 'array', items: string };
const stringMap: Schema = { type: 'object', additionalProperties: string };
/** A field of eksctl's schema this project does not use: accepted by name, not described here. */
const unused: Schema = {};

const wellKnownPolicies = object(
  Object.fromEntries(
    ['autoScaler', 'awsLoadBalancerController', 'certManager', 'ebsCSIController', 'efsCSIController', 'externalDNS', 'imageBuilder'].map(
      (name) => [name, boolean],
    ),
  ),
);

const podIdentityAssociation = object({
  createServiceAccount: boolean,
  disableSessionTags: boolean,
  namespace: string,
  permissionPolicy: { type: 'object' },
  permissionPolicyARNs: strings,
  permissionPolicyName: string,
  permissionsBoundaryARN: string,
  policy: string,
  roleARN: string,
  roleName: string,
  serviceAccountName: string,
  tags: stringMap,
  targetRoleARN: string,
  wellKnownPolicies,
});

const addon = object(
  {
    attachPolicy: { type: 'object' },
    attachPolicyARNs: strings,
    configurationValues: string,
    name: string,
    namespaceConfig: object({ namespace: string }),
    owners: strings,
    permissionsBoundary: string,
    podIdentityAssociations: { type: 'array', items: podIdentityAssociation },
    publishers: strings,
    resolveConflicts: string,
    serviceAccountRoleARN: string,
    tags: stringMap,
    types: strings,
    useDefaultPodIdentityAssociations: boolean,
    version: string,
    wellKnownPolicies,
  },
  ['name'],
);

const managedNodeGroup = object(
  {
    ...Object.fromEntries(
      [
        'additionalVolumes',
        'ami',
        'asgSuspendProcesses',
        'bottlerocket',
        'capacityReservation',
        'iam',
        'instanceMarketOptions',
        'instanceSelector',
        'launchTemplate',
        'nodeRepairConfig',
        'outpostARN',
        'overrideBootstrapCommand',
        'placement',
        'preBootstrapCommands',
        'releaseVersion',
        'securityGroups',
        'ssh',
        'subnets',
        'taints',
      ].map((name) => [name, unused]),
    ),
    amiFamily: {
      enum: [
        'AmazonLinux2023',
        'AmazonLinux2',
        'UbuntuPro2604',
        'Ubuntu2604',
        'UbuntuPro2404',
        'Ubuntu2404',
        'UbuntuPro2204',
        'Ubuntu2204',
        'UbuntuPro2004',
        'Ubuntu2004',
        'Bottlerocket',
        'BottlerocketFips',
        'WindowsServer2019CoreContainer',
        'WindowsServer2019FullContainer',
        'WindowsServer2022CoreContainer',
        'WindowsServer2022FullContainer',
        'WindowsServer2025CoreContainer',
        'WindowsServer2025FullContainer',
      ],
    },
    availabilityZones: strings,
    desiredCapacity: integer,
    disableIMDSv1: boolean,
    disablePodIMDS: boolean,
    ebsOptimized: boolean,
    efaEnabled: boolean,
    enableDetailedMonitoring: boolean,
    instanceName: string,
    instancePrefix: string,
    instanceType: string,
    instanceTypes: strings,
    labels: stringMap,
    maxPodsPerNode: integer,
    maxSize: integer,
    minSize: integer,
    name: string,
    privateNetworking: boolean,
    propagateASGTags: boolean,
    spot: boolean,
    tags: stringMap,
    updateConfig: object({ maxUnavailable: integer, maxUnavailablePercentage: integer }),
    volumeEncrypted: boolean,
    volumeIOPS: integer,
    volumeKmsKeyID: string,
    volumeName: string,
    volumeSize: integer,
    volumeThroughput: integer,
    volumeType: { enum: ['gp2', 'gp3', 'io1', 'io2', 'sc1', 'st1'] },
  },
  ['name'],
);

export const EKSCTL_CLUSTER_CONFIG_SCHEMA: Schema = object(
  {
    ...Object.fromEntries(
      [
        'autoModeConfig',
        'capabilities',
        'cloudWatch',
        'controlPlaneScalingConfig',
        'fargateProfiles',
        'gitops',
        'iamIdentityMappings',
        'identityProviders',
        'karpenter',
        'kubeAPIServerConfig',
        'kubeControllerManagerConfig',
        'kubeSchedulerConfig',
        'kubernetesNetworkConfig',
        'localZones',
        'nodeGroups',
        'outpost',
        'privateCluster',
        'remoteNetworkConfig',
        'secretsEncryption',
        'upgradePolicy',
        'zonalShiftConfig',
      ].map((name) => [name, unused]),
    ),
    apiVersion: { enum: ['eksctl.io/v1alpha5'] },
    kind: { enum: ['ClusterConfig'] },
    metadata: object(
      {
        annotations: stringMap,
        forceUpdateVersion: boolean,
        name: string,
        region: string,
        rollbackConfig: unused,
        tags: stringMap,
        version: string,
      },
      ['name', 'region'],
    ),
    availabilityZones: strings,
    vpc: object({
      ...Object.fromEntries(
        [
          'autoAllocateIPv6',
          'controlPlaneEgressMode',
          'controlPlaneOnPrivateSubnets',
          'controlPlaneSecurityGroupIDs',
          'controlPlaneSubnetIDs',
          'extraCIDRs',
          'extraIPv6CIDRs',
          'hostnameType',
          'id',
          'ipv6Cidr',
          'ipv6Pool',
          'manageSharedNodeSecurityGroupRules',
          'publicAccessCIDRs',
          'securityGroup',
          'sharedNodeSecurityGroup',
          'subnets',
        ].map((name) => [name, unused]),
      ),
      cidr: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+/\\d+$' },
      nat: object({ gateway: { enum: ['HighlyAvailable', 'Single', 'Disable'] } }),
      clusterEndpoints: object({ privateAccess: boolean, publicAccess: boolean }),
    }),
    accessConfig: object({
      accessEntries: { type: 'array', items: { type: 'object' } },
      authenticationMode: string,
      bootstrapClusterCreatorAdminPermissions: boolean,
    }),
    iam: object({
      fargatePodExecutionRoleARN: string,
      fargatePodExecutionRolePermissionsBoundary: string,
      podIdentityAssociations: { type: 'array', items: podIdentityAssociation },
      serviceAccounts: { type: 'array', items: { type: 'object' } },
      serviceRoleARN: string,
      serviceRolePermissionsBoundary: string,
      vpcResourceControllerPolicy: boolean,
      withOIDC: boolean,
    }),
    addonsConfig: object({ autoApplyPodIdentityAssociations: boolean, disableDefaultAddons: boolean }),
    addons: { type: 'array', items: addon },
    managedNodeGroups: { type: 'array', items: managedNodeGroup },
  },
  ['metadata', 'kind', 'apiVersion'],
);

const tag = object({ Key: string, Value: string }, ['Key', 'Value']);
const scheduleName = { type: 'string', maxLength: 120, pattern: '^[0-9A-Za-z _-]+$' };

export const DLM_POLICY_DETAILS_SCHEMA: Schema = object(
  {
    PolicyType: { enum: ['EBS_SNAPSHOT_MANAGEMENT', 'IMAGE_MANAGEMENT', 'EVENT_BASED_POLICY'] },
    ResourceTypes: { type: 'array', minItems: 1, maxItems: 1, items: { enum: ['VOLUME', 'INSTANCE'] } },
    TargetTags: { type: 'array', minItems: 1, maxItems: 50, items: tag },
    Schedules: {
      type: 'array',
      minItems: 1,
      maxItems: 4,
      items: object({
        Name: scheduleName,
        CopyTags: boolean,
        TagsToAdd: { type: 'array', maxItems: 45, items: tag },
        CreateRule: object({
          Location: { enum: ['CLOUD', 'OUTPOST_LOCAL', 'LOCAL_ZONE'] },
          Interval: { type: 'integer', minimum: 1 },
          IntervalUnit: { enum: ['HOURS'] },
          Times: { type: 'array', maxItems: 1, items: { type: 'string', pattern: '^(0[0-9]|1[0-9]|2[0-3]):[0-5][0-9]$' } },
          CronExpression: { type: 'string', pattern: '^cron\\([^\\n]{11,100}\\)$' },
        }),
        RetainRule: object({
          Count: { type: 'integer', minimum: 0, maximum: 1000 },
          Interval: { type: 'integer', minimum: 0 },
          IntervalUnit: { enum: ['DAYS', 'WEEKS', 'MONTHS', 'YEARS'] },
        }),
        CrossRegionCopyRules: { type: 'array', maxItems: 3, items: { type: 'object', required: ['Encrypted'] } },
      }),
    },
  },
  ['PolicyType', 'ResourceTypes', 'TargetTags', 'Schedules'],
);
