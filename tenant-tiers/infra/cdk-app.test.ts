import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATA_BUCKET, EVENT_STREAM_ARN, REGION, SHARED_CLUSTER } from './testing/fixtures.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const outdir = mkdtempSync(join(tmpdir(), 'cdk-app-test-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Runs bin/cdk-app.ts as the CDK CLI would: context in CDK_CONTEXT_JSON, assembly to CDK_OUTDIR. */
async function synth(dir: string, context: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  return run(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'bin', 'cdk-app.ts')], {
    cwd: root,
    env: { ...process.env, CDK_OUTDIR: dir, CDK_CONTEXT_JSON: JSON.stringify(context) },
    timeout: 50_000,
  });
}

interface TemplateJson {
  readonly Resources: Record<string, { readonly Type: string; readonly Properties: Record<string, unknown> }>;
}

function template(dir: string, stackName: string): TemplateJson {
  return JSON.parse(readFileSync(join(dir, `${stackName}.template.json`), 'utf8')) as TemplateJson;
}

/** A pool tenant alone (no analytics stack, so no bundling). */
const POOL = {
  tenant: 'acme-pool',
  tenantId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  tier: 'pool',
  region: REGION,
  eventStreamArn: EVENT_STREAM_ARN,
  sharedClusterName: SHARED_CLUSTER.clusterName,
  sharedNodeRoleArn: SHARED_CLUSTER.nodeRoleArn,
  sharedSubnetIds: SHARED_CLUSTER.subnetIds.join(','),
  dataBucketName: DATA_BUCKET,
  analytics: 'false',
};

describe('bin/cdk-app.ts', () => {
  const dir = join(outdir, 'bridge');
  beforeAll(async () => {
    await synth(dir, {
      tenant: 'acme-bridge',
      tenantId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
      tier: 'bridge',
      region: REGION,
      eventStreamArn: EVENT_STREAM_ARN,
      sharedClusterName: SHARED_CLUSTER.clusterName,
      sharedNodeRoleArn: SHARED_CLUSTER.nodeRoleArn,
      sharedSubnetIds: SHARED_CLUSTER.subnetIds.join(','),
      dataBucketName: DATA_BUCKET,
      analyticsHandlerEntry: join(root, 'data-plane', 'infra', 'testing', 'echo-handler.ts'),
    });
  }, 60_000);

  it('synthesizes the tenant stack named by -c tenant, from the tier given by -c tier', () => {
    const resources = Object.values(template(dir, 'saas-kit-tenant-acme-bridge').Resources);
    const nodegroup = resources.find((resource) => resource.Type === 'AWS::EKS::Nodegroup');
    expect(nodegroup?.Properties).toMatchObject({ ClusterName: SHARED_CLUSTER.clusterName, Subnets: [...SHARED_CLUSTER.subnetIds], NodegroupName: 'tenant-acme-bridge' });
  });

  it('synthesizes the analytics pipeline stack beside it, with its bundled handler', () => {
    const types = Object.values(template(dir, 'saas-kit-analytics').Resources).map((resource) => resource.Type);
    expect(types).toEqual(expect.arrayContaining(['AWS::Kinesis::Stream', 'AWS::Kinesis::StreamConsumer', 'AWS::Lambda::EventSourceMapping', 'AWS::DynamoDB::Table']));
    expect(readdirSync(dir).some((name) => name.startsWith('asset.'))).toBe(true);
  });

  it('leaves the CloudFormation schema check off unless asked', () => {
    expect(readdirSync(dir)).not.toContain('validation-report.json');
  });

  it('fails naming the -c key to pass when the tenant context is incomplete', async () => {
    await expect(synth(join(outdir, 'incomplete'), { tenant: 'acme-pool', tier: 'pool', analytics: 'false' })).rejects.toThrow(/-c tenantId=<tenant uuid> is required/);
  });

  it("fails with the stack's own validation when a value is wrong", async () => {
    const context: Partial<typeof POOL> = { ...POOL };
    delete context.dataBucketName;
    await expect(synth(join(outdir, 'no-bucket'), context)).rejects.toThrow(/dataBucketName: is required for tier pool/);
  });

  it('passes -c controlPlaneCidrs, a comma-separated list, to a silo stack, which refuses an endpoint open to all', async () => {
    const silo = { tenant: 'globex', tenantId: POOL.tenantId, tier: 'silo', account: '222222222222', region: POOL.region, eventStreamArn: POOL.eventStreamArn, analytics: 'false' };
    await expect(synth(join(outdir, 'open-silo'), { ...silo, controlPlaneCidrs: '203.0.113.0/24, 0.0.0.0/0' })).rejects.toThrow(/controlPlaneCidrs\.1: must not open the cluster's endpoint to the whole internet/);
  });
});
