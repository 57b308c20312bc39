/**
 * Synthesis time and peak memory of one tenant stack, for `npm run bench` (issue 3: "synthesis time and
 * peak memory of one bridge tenant stack"). Run it in a fresh process for a cold figure: the first
 * synthesis in a process also loads aws-cdk-lib and CDK's CloudFormation schema validator.
 */
import { resourceUsage } from 'node:process';
import type { TierName } from '../tiers.js';
import { runsOwnDataPlane } from './naming.js';
import { synthesizeTenantStack, type SynthesizeTenantStackInput } from './synthesize.js';

export interface TenantSynthesisMeasurement {
  /** Wall time of `synthesizeTenantStack`, milliseconds. */
  readonly ms: number;
  /** Peak resident set size of the process after the synthesis, bytes (`getrusage` maxrss). */
  readonly peakRssBytes: number;
  /** Resources in the synthesized template. */
  readonly resources: number;
}

/**
 * A tenant of `tier` on an example platform. Synthesis never calls AWS, so example ids of the right
 * shape cost the same as real ones.
 */
export function sampleTenantInput(tier: TierName): SynthesizeTenantStackInput {
  const account = '123456789012';
  const region = 'us-east-1';
  const common = {
    tenantId: '0f8fad5b-d9cb-469f-a165-70867728950e',
    tenantName: `sample-${tier}`,
    tier,
    region,
    eventStream: {
      streamArn: `arn:aws:kinesis:${region}:${account}:stream/saas-kit-events`,
      encryptionKeyArn: `arn:aws:kms:${region}:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    },
  };
  if (runsOwnDataPlane(tier)) return { ...common, account: '210987654321' };
  return {
    ...common,
    account,
    sharedCluster: {
      clusterName: 'saas-kit-shared',
      nodeRoleArn: `arn:aws:iam::${account}:role/saas-kit-shared-nodes`,
      subnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
    },
    dataBucketName: `saas-kit-data-${account}`,
  };
}

/** Synthesizes one tenant stack of `tier` and reports its wall time and the process's peak RSS. */
export function measureTenantSynthesis(tier: TierName, input: SynthesizeTenantStackInput = sampleTenantInput(tier)): TenantSynthesisMeasurement {
  const start = performance.now();
  const { template } = synthesizeTenantStack(input);
  const ms = performance.now() - start;
  // maxrss is in kilobytes on Linux and macOS (Node normalizes it to KiB).
  const peakRssBytes = resourceUsage().maxRSS * 1024;
  const resources = Object.keys(template.Resources ?? {}).length;
  return { ms, peakRssBytes, resources };
}
