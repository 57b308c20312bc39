/** Shared fixtures of the tenant stack tests, the CDK app test and the synthesis measurement. */
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { TierName } from '../../tiers.js';
import type { SynthesizeTenantStackInput } from '../synthesize.js';

export const PLATFORM_ACCOUNT = '111111111111';
export const SILO_ACCOUNT = '222222222222';
export const REGION = 'us-east-1';
export const EVENT_STREAM_ARN = `arn:aws:kinesis:${REGION}:${PLATFORM_ACCOUNT}:stream/saas-kit-events`;
export const EVENT_STREAM_KEY_ARN = `arn:aws:kms:${REGION}:${PLATFORM_ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;
export const SHARED_CLUSTER = {
  clusterName: 'saas-kit-shared',
  nodeRoleArn: `arn:aws:iam::${PLATFORM_ACCOUNT}:role/saas-kit-shared-nodes`,
  subnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-0f1e2d3c4b5a69788'],
} as const;
export const DATA_BUCKET = 'saas-kit-data-111111111111';

/** A valid input for `tier`: the platform's cluster and bucket for shared tiers, the tenant's account for silo. */
export function tenantInput(tier: TierName, overrides: Partial<SynthesizeTenantStackInput> = {}): SynthesizeTenantStackInput {
  const tenantName = `acme-${tier}`;
  const common = {
    tenantId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    tenantName,
    tier,
    region: REGION,
    eventStream: { streamArn: EVENT_STREAM_ARN, encryptionKeyArn: EVENT_STREAM_KEY_ARN },
  };
  const placement = tier === 'silo'
    ? { account: SILO_ACCOUNT }
    : { account: PLATFORM_ACCOUNT, sharedCluster: { ...SHARED_CLUSTER, subnetIds: [...SHARED_CLUSTER.subnetIds] }, dataBucketName: DATA_BUCKET };
  return { ...common, ...placement, ...overrides };
}

/** cdk-nag AwsSolutions findings left after the acknowledgements in code, one line each. */
export function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} at ${resource.locations.join(', ') || resource.resourceLogicalId}: ${violation.description}`),
  );
}
