import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TIERS, TIER_NAMES, type TierName } from '../tiers.js';
import { TenantStackInputError } from './errors.js';
import { TENANT_NAME_PATTERN, TENANT_NODE_LABEL_KEY, TENANT_NODE_TAINT_KEY, TENANT_STACK_OUTPUTS, runsOwnDataPlane, tenantClusterName, tenantStackOutputNames } from './naming.js';
import { TenantStack } from './tenant-stack.js';
import { DATA_BUCKET, EVENT_STREAM_ARN, EVENT_STREAM_KEY_ARN, SHARED_CLUSTER, SILO_ACCOUNT, nagFindings, tenantInput } from './testing/fixtures.js';

const TENANT_ID = tenantInput('pool').tenantId;
const PREFIX = `tenants/${TENANT_ID}/`;

const stacks = {} as Record<TierName, TenantStack>;
const templates = {} as Record<TierName, Template>;
const sharedTiers = TIER_NAMES.filter((tier) => !runsOwnDataPlane(tier));
const ownAccountTiers = TIER_NAMES.filter(runsOwnDataPlane);
const nodeGroupTiers = TIER_NAMES.filter((tier) => TIERS[tier].nodeGroup !== null);

beforeAll(() => {
  // One synthesis per tier for the whole file.
  for (const tier of TIER_NAMES) {
    const app = new App();
    stacks[tier] = new TenantStack(app, `Tenant-${tier}`, tenantInput(tier));
    templates[tier] = Template.fromStack(stacks[tier]);
  }
});

/** The logical id of the tier's workload role. */
function workloadRoleId(tier: TierName): string {
  return stacks[tier].getLogicalId(stacks[tier].tenant.role.node.defaultChild as never);
}

describe('every tier', () => {
  it.each(TIER_NAMES)('%s: the workload role is assumable by EKS Pod Identity only', (tier) => {
    templates[tier].hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
      },
    });
  });

  it.each(TIER_NAMES)("%s: a Pod Identity association binds the namespace's job-executor ServiceAccount to the role", (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::PodIdentityAssociation', {
      Namespace: `tenant-acme-${tier}`,
      ServiceAccount: 'job-executor',
      RoleArn: { 'Fn::GetAtt': [workloadRoleId(tier), 'Arn'] },
    });
  });

  it.each(TIER_NAMES)("%s: objects are read, written and deleted under the tenant's prefix only", (tier) => {
    templates[tier].hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: workloadRoleId(tier) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
            Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`/${PREFIX}\\*$`)])] },
          }),
        ]),
      },
    });
  });

  it.each(TIER_NAMES)("%s: listing the bucket is limited to the tenant's prefix", (tier) => {
    templates[tier].hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: workloadRoleId(tier) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 's3:ListBucket', Condition: { StringLike: { 's3:prefix': [PREFIX, `${PREFIX}*`] } } }),
        ]),
      },
    });
  });

  it.each(TIER_NAMES)('%s: no statement grants a wildcard action', (tier) => {
    const actions = Object.values(templates[tier].findResources('AWS::IAM::Policy')).flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((statement) => statement.Action),
    );
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it.each(TIER_NAMES)('%s: the stack has the outputs the workflow reads', (tier) => {
    const expected = {
      pool: ['TenantRoleArn'],
      bridge: ['TenantRoleArn', 'TenantNodegroupName'],
      silo: ['TenantRoleArn', 'TenantNodegroupName', 'TenantClusterName', 'TenantBucketName', 'TenantProducerRoleArn'],
    }[tier];
    expect(Object.keys(templates[tier].findOutputs('*'))).toEqual(expected);
    expect(tenantStackOutputNames(tier)).toEqual(expected);
  });

  it.each(TIER_NAMES)('%s: the stack is named after the tenant and tagged with its id and tier', (tier) => {
    expect(stacks[tier].stackName).toBe(`saas-kit-tenant-acme-${tier}`);
    templates[tier].hasResourceProperties('AWS::IAM::Role', {
      Tags: Match.arrayWith([{ Key: 'saas-kit:tenant-id', Value: TENANT_ID }, { Key: 'saas-kit:tier', Value: tier }]),
    });
  });

  it.each(TIER_NAMES)('%s: the template needs no CDK bootstrap (no BootstrapVersion parameter)', (tier) => {
    expect(templates[tier].toJSON().Parameters?.BootstrapVersion).toBeUndefined();
  });

  it.each([
    ['pool', { 'AWS::IAM::Role': 1, 'AWS::EKS::PodIdentityAssociation': 1, 'AWS::EKS::Nodegroup': 0, 'AWS::EKS::Cluster': 0, 'AWS::S3::Bucket': 0, 'AWS::EC2::VPC': 0 }],
    ['bridge', { 'AWS::IAM::Role': 1, 'AWS::EKS::PodIdentityAssociation': 1, 'AWS::EKS::Nodegroup': 1, 'AWS::EKS::Cluster': 0, 'AWS::S3::Bucket': 0, 'AWS::EC2::VPC': 0 }],
    // Workload, producer, node, cluster and flow-log roles; data and access-log buckets.
    ['silo', { 'AWS::IAM::Role': 5, 'AWS::EKS::PodIdentityAssociation': 1, 'AWS::EKS::Nodegroup': 1, 'AWS::EKS::Cluster': 1, 'AWS::EKS::AccessEntry': 1, 'AWS::S3::Bucket': 2, 'AWS::EC2::VPC': 1 }],
  ] as const)('%s: resource counts', (tier, counts) => {
    for (const [type, count] of Object.entries(counts)) templates[tier].resourceCountIs(type, count);
  });

  it.each(TIER_NAMES)('%s: cdk-nag AwsSolutions finds nothing unacknowledged', (tier) => {
    expect(nagFindings(stacks[tier])).toEqual([]);
  });
});

describe('the cdk-nag harness', () => {
  it('reports a finding nobody acknowledged', () => {
    const stack = new Stack(new App(), 'Unsafe');
    new iam.Role(stack, 'Wide', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }).addToPolicy(
      new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }),
    );
    expect(nagFindings(stack).join('\n')).toMatch(/AwsSolutions-IAM5/);
  });
});

describe('tiers on the shared cluster', () => {
  it.each(sharedTiers)('%s: the association is on the shared cluster', (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::PodIdentityAssociation', { ClusterName: SHARED_CLUSTER.clusterName });
  });

  it.each(sharedTiers)('%s: the data is in the platform bucket', (tier) => {
    templates[tier].hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 's3:ListBucket', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${DATA_BUCKET}`]] } }),
        ]),
      },
    });
  });

  it.each(sharedTiers)('%s: the workload role writes to the central stream with its key', (tier) => {
    templates[tier].hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: workloadRoleId(tier) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: Match.arrayWith(['kinesis:PutRecord', 'kinesis:PutRecords']), Resource: EVENT_STREAM_ARN }),
          Match.objectLike({ Action: 'kms:GenerateDataKey', Resource: EVENT_STREAM_KEY_ARN }),
        ]),
      },
    });
  });
});

describe('tiers with a dedicated node group', () => {
  it.each(nodeGroupTiers)('%s: sizes, instance types, disk and capacity come from the tier table', (tier) => {
    const spec = TIERS[tier].nodeGroup!;
    templates[tier].hasResourceProperties('AWS::EKS::Nodegroup', {
      NodegroupName: `tenant-acme-${tier}`,
      InstanceTypes: [...spec.instanceTypes],
      ScalingConfig: { MinSize: spec.minSize, DesiredSize: spec.desiredSize, MaxSize: spec.maxSize },
      DiskSize: spec.diskSizeGiB,
      CapacityType: spec.capacityType,
    });
  });

  it.each(nodeGroupTiers)("%s: nodes carry the tenant's label", (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::Nodegroup', { Labels: { [TENANT_NODE_LABEL_KEY]: `acme-${tier}` } });
  });

  it.each(nodeGroupTiers)('%s: nodes are tainted NoSchedule exactly when the cluster is shared', (tier) => {
    const taints = runsOwnDataPlane(tier) ? Match.absent() : [{ Key: TENANT_NODE_TAINT_KEY, Value: `acme-${tier}`, Effect: 'NO_SCHEDULE' }];
    templates[tier].hasResourceProperties('AWS::EKS::Nodegroup', { Taints: taints });
  });

  it.each(nodeGroupTiers.filter((tier) => !runsOwnDataPlane(tier)))('%s: the node group joins the shared cluster with its node role and subnets', (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::Nodegroup', {
      ClusterName: SHARED_CLUSTER.clusterName,
      NodeRole: SHARED_CLUSTER.nodeRoleArn,
      Subnets: [...SHARED_CLUSTER.subnetIds],
    });
  });
});

describe('tiers in their own account', () => {
  it.each(ownAccountTiers)("%s: the stack deploys into the tenant's account", (tier) => {
    expect(stacks[tier].account).toBe(tenantInput(tier).account);
  });

  it.each(ownAccountTiers)('%s: its own cluster has a private endpoint, encrypted secrets and every control plane log', (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: false, EndpointPrivateAccess: true }),
      EncryptionConfig: [Match.objectLike({ Resources: ['secrets'] })],
      Logging: { ClusterLogging: { EnabledTypes: Match.arrayWith([{ Type: 'api' }, { Type: 'audit' }, { Type: 'authenticator' }, { Type: 'controllerManager' }, { Type: 'scheduler' }]) } },
    });
  });

  it.each(ownAccountTiers)('%s: its cluster runs the Pod Identity agent', (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent' });
  });

  it.each(ownAccountTiers)('%s: its data bucket is encrypted, versioned and closed to the public', (tier) => {
    templates[tier].hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } })] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    });
  });

  it.each(ownAccountTiers)('%s: its buckets deny requests without TLS', (tier) => {
    const policies = templates[tier].findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies)).toHaveLength(2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });

  it.each(ownAccountTiers)('%s: the producer role, under the producers path, is assumable by the workload role only', (tier) => {
    templates[tier].hasResourceProperties('AWS::IAM::Role', {
      Path: '/saas-kit/producers/',
      AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: { 'Fn::GetAtt': [workloadRoleId(tier), 'Arn'] } } }] },
    });
  });

  it.each(ownAccountTiers)('%s: the producer role, not the workload role, writes to the central stream', (tier) => {
    const template = templates[tier];
    const producerId = stacks[tier].getLogicalId(stacks[tier].tenant.dataPlane!.producerRole.node.defaultChild as never);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: producerId }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kinesis:PutRecords']), Resource: EVENT_STREAM_ARN })]) },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: workloadRoleId(tier) }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: 'sts:AssumeRole', Resource: { 'Fn::GetAtt': [producerId, 'Arn'] } })]),
      },
    });
    const workloadPolicies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: workloadRoleId(tier) }] } }));
    expect(JSON.stringify(workloadPolicies)).not.toContain('kinesis:');
  });

  it.each(ownAccountTiers)('%s: its VPC logs its traffic', (tier) => {
    templates[tier].hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL' });
  });

  it.each(ownAccountTiers)("%s: its cluster is named from the tenant's name, and the output gives that name", (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::Cluster', { Name: `saas-kit-tenant-acme-${tier}` });
    const clusterId = stacks[tier].getLogicalId(stacks[tier].tenant.dataPlane!.cluster.node.defaultChild as never);
    expect(templates[tier].findOutputs(TENANT_STACK_OUTPUTS.clusterName)[TENANT_STACK_OUTPUTS.clusterName]?.Value).toEqual({ Ref: clusterId });
  });

  it.each(ownAccountTiers)('%s: access is by access entries only, none for whoever deployed the stack', (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::Cluster', { AccessConfig: { AuthenticationMode: 'API', BootstrapClusterCreatorAdminPermissions: false } });
  });

  it.each(ownAccountTiers)("%s: an access entry gives OrganizationAccountAccessRole of the tenant's account cluster admin at cluster scope", (tier) => {
    const clusterId = stacks[tier].getLogicalId(stacks[tier].tenant.dataPlane!.cluster.node.defaultChild as never);
    templates[tier].hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: { Ref: clusterId },
      PrincipalArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${SILO_ACCOUNT}:role/OrganizationAccountAccessRole`]] },
      AccessPolicies: [
        {
          PolicyArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy']] },
          AccessScope: { Type: 'cluster' },
        },
      ],
    });
  });

  it.each(ownAccountTiers)('%s: the access entry names another provisioning role when given', (tier) => {
    const template = Template.fromStack(new TenantStack(new App(), 'OtherRole', tenantInput(tier, { provisioningRoleName: 'saas-kit-provisioning' })));
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${SILO_ACCOUNT}:role/saas-kit-provisioning`]] },
    });
  });

  it.each(ownAccountTiers)("%s: with the control plane's CIDRs the endpoint is private and public, the public side open to those CIDRs only", (tier) => {
    const stack = new TenantStack(new App(), 'Reachable', tenantInput(tier, { controlPlaneCidrs: ['203.0.113.0/24', '198.51.100.7/32'] }));
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: true, PublicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'] }),
    });
    expect(nagFindings(stack)).toEqual([]);
  });

  it.each(ownAccountTiers)('%s: without them the endpoint stays private, with no public CIDRs', (tier) => {
    templates[tier].hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false, PublicAccessCidrs: Match.absent() }),
    });
  });
});

describe('tenantClusterName', () => {
  it('fits EKS cluster names (1-100 of letters, digits, - and _, starting with a letter or digit) for the longest tenant name', () => {
    const longest = `a${'b'.repeat(38)}c`;
    expect(longest).toMatch(TENANT_NAME_PATTERN);
    for (const name of [longest, 'abc', 'acme-silo']) {
      expect(tenantClusterName(name)).toMatch(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/);
    }
    expect(tenantClusterName(longest).length).toBeLessThanOrEqual(100);
  });

  it('is the same for the same tenant and differs between tenants', () => {
    expect(tenantClusterName('acme')).toBe(tenantClusterName('acme'));
    expect(tenantClusterName('acme')).not.toBe(tenantClusterName('globex'));
  });
});

describe('props', () => {
  it('binds another namespace and ServiceAccount when given', () => {
    const stack = new TenantStack(new App(), 'Custom', tenantInput('pool', { namespace: 'analytics-acme', serviceAccountName: 'spark-driver' }));
    Template.fromStack(stack).hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'analytics-acme', ServiceAccount: 'spark-driver' });
  });

  it('leaves out the KMS statement when the stream has no customer managed key', () => {
    const stack = new TenantStack(new App(), 'NoKey', tenantInput('pool', { eventStream: { streamArn: EVENT_STREAM_ARN } }));
    expect(JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'))).not.toContain('kms:');
  });

  it('exposes its outputs under the names of TENANT_STACK_OUTPUTS', () => {
    expect(Object.values(TENANT_STACK_OUTPUTS).sort()).toEqual(tenantStackOutputNames('silo').sort());
  });
});

describe('validation', () => {
  const build = (tier: TierName, overrides: Record<string, unknown>) => () => new TenantStack(new App(), 'Bad', { ...tenantInput(tier), ...overrides });

  it.each([
    ['tenantName', 'pool', { tenantName: 'Acme_Corp' }, /tenantName: must be 3-40 characters.*received "Acme_Corp"/],
    ['tier', 'pool', { tier: 'gold' }, /tier: must be one of pool, bridge, silo \(received "gold"\)/],
    ['tenantId', 'pool', { tenantId: '' }, /tenantId: must be the tenant id/],
    ['eventStream.streamArn', 'bridge', { eventStream: { streamArn: 'saas-kit-events' } }, /eventStream\.streamArn: must be the central Kinesis stream ARN/],
    ['sharedCluster', 'bridge', { sharedCluster: undefined }, /sharedCluster: is required for tier bridge/],
    ['sharedCluster.subnetIds', 'bridge', { sharedCluster: { ...SHARED_CLUSTER, subnetIds: [] } }, /sharedCluster\.subnetIds: must list at least one private subnet/],
    ['sharedCluster.subnetIds.1', 'pool', { sharedCluster: { ...SHARED_CLUSTER, subnetIds: ['subnet-0a1b2c3d', 'sn-1'] } }, /sharedCluster\.subnetIds\.1: must be a subnet id/],
    ['sharedCluster.nodeRoleArn', 'pool', { sharedCluster: { ...SHARED_CLUSTER, nodeRoleArn: 'nodes' } }, /sharedCluster\.nodeRoleArn: must be the ARN/],
    ['dataBucketName', 'pool', { dataBucketName: undefined }, /dataBucketName: is required for tier pool/],
    ['silo sharedCluster', 'silo', { sharedCluster: SHARED_CLUSTER }, /sharedCluster: must be left out for tier silo/],
    ['silo dataBucketName', 'silo', { dataBucketName: DATA_BUCKET }, /dataBucketName: must be left out for tier silo/],
    ['silo account', 'silo', { account: undefined }, /account: must be the tenant's own 12-digit AWS account id/],
    ['region', 'pool', { region: 'mars' }, /region: must be an AWS region/],
    ['namespace', 'pool', { namespace: 'Tenant_A' }, /namespace: must be a DNS label/],
    ['empty controlPlaneCidrs', 'silo', { controlPlaneCidrs: [] }, /controlPlaneCidrs: must list at least one IPv4 CIDR.*received \[\]/],
    ['open controlPlaneCidrs', 'silo', { controlPlaneCidrs: ['203.0.113.0/24', '0.0.0.0/0'] }, /controlPlaneCidrs\.1: must not open the cluster's endpoint to the whole internet.*received "0\.0\.0\.0\/0"/],
    ['IPv6 controlPlaneCidrs', 'silo', { controlPlaneCidrs: ['2001:db8::/32'] }, /controlPlaneCidrs\.0: must be an IPv4 CIDR/],
    ['octet of controlPlaneCidrs', 'silo', { controlPlaneCidrs: ['203.0.113.256/32'] }, /controlPlaneCidrs\.0: must be an IPv4 CIDR/],
    ['prefix of controlPlaneCidrs', 'silo', { controlPlaneCidrs: ['203.0.113.0/33'] }, /controlPlaneCidrs\.0: must be an IPv4 CIDR/],
    ['bare address in controlPlaneCidrs', 'silo', { controlPlaneCidrs: ['203.0.113.7'] }, /controlPlaneCidrs\.0: must be an IPv4 CIDR/],
    ['host bits in controlPlaneCidrs', 'silo', { controlPlaneCidrs: ['203.0.113.7/24'] }, /controlPlaneCidrs\.0: must be a network address: use 203\.0\.113\.0\/24/],
    ['too many controlPlaneCidrs', 'silo', { controlPlaneCidrs: Array.from({ length: 41 }, (_, i) => `10.0.${i}.0/24`) }, /controlPlaneCidrs: must list at most 40/],
    ['pool controlPlaneCidrs', 'pool', { controlPlaneCidrs: ['203.0.113.0/24'] }, /controlPlaneCidrs: must be left out for tier pool/],
    ['provisioningRoleName', 'silo', { provisioningRoleName: 'role/with/path' }, /provisioningRoleName: must be an IAM role name/],
    ['bridge provisioningRoleName', 'bridge', { provisioningRoleName: 'OrganizationAccountAccessRole' }, /provisioningRoleName: must be left out for tier bridge/],
  ] as const)('rejects a bad %s', (_name, tier, overrides, message) => {
    expect(build(tier, overrides)).toThrow(message);
  });

  it('throws a TenantStackInputError naming the field and the value', () => {
    try {
      build('pool', { tenantName: 'x' })();
      expect.unreachable('the stack was built');
    } catch (error) {
      expect(error).toBeInstanceOf(TenantStackInputError);
      expect(error).toMatchObject({ name: 'TenantStackInputError', field: 'tenantName', received: 'x' });
    }
  });
});
