/**
 * The CDK app of the kit, for platform engineers (`npx aws-cdk@2 synth|deploy`, see docs/stacks.md):
 * the analytics pipeline stack, and one tenant's stack when `-c tenant=<name>` is given. The
 * provisioning workflow does not use this file: it calls `synthesizeTenantStack` directly.
 */
import { App, CloudFormationValidatePlugin, Validations } from 'aws-cdk-lib';
import { AnalyticsPipelineStack, type AnalyticsPipelineProps } from '../data-plane/infra/index.js';
import { TenantStack, type TenantStackProps } from '../tenant-tiers/infra/index.js';
import { isTierName, tenantStackName } from '../tenant-tiers/index.js';

/** A context value the app needs is missing or malformed; the message names the `-c key=value` to pass. */
class CdkAppContextError extends Error {
  public constructor(message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.name = 'CdkAppContextError';
  }
}

/** Name of the analytics pipeline stack. */
const ANALYTICS_STACK_NAME = 'saas-kit-analytics';

function text(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new CdkAppContextError(`-c ${key}: expected a string, received ${JSON.stringify(value)}`);
  }
  return String(value);
}

function required(app: App, key: string, what: string): string {
  const value = text(app, key);
  if (value === undefined) throw new CdkAppContextError(`-c ${key}=<${what}> is required`);
  return value;
}

/** Comma-separated list context (`-c sharedSubnetIds=subnet-a,subnet-b`); an array from cdk.json works too. */
function list(app: App, key: string): string[] | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  if (typeof value === 'string') return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  throw new CdkAppContextError(`-c ${key}: expected a comma-separated list, received ${JSON.stringify(value)}`);
}

function integer(app: App, key: string): number | undefined {
  const value = text(app, key);
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number)) throw new CdkAppContextError(`-c ${key}: expected a whole number, received ${JSON.stringify(value)}`);
  return number;
}

/** The tenant stack's props from context; the stack validates the values themselves. */
function tenantProps(app: App, tenantName: string): TenantStackProps {
  const tier = required(app, 'tier', 'pool|bridge|silo');
  if (!isTierName(tier)) throw new CdkAppContextError(`-c tier: expected pool, bridge or silo, received ${JSON.stringify(tier)}`);
  const clusterName = text(app, 'sharedClusterName');
  const eventStreamKeyArn = text(app, 'eventStreamKeyArn');
  return {
    tenantName,
    tenantId: required(app, 'tenantId', 'tenant uuid'),
    tier,
    account: text(app, 'account'),
    region: required(app, 'region', 'aws region'),
    eventStream: { streamArn: required(app, 'eventStreamArn', 'central stream ARN'), ...(eventStreamKeyArn ? { encryptionKeyArn: eventStreamKeyArn } : {}) },
    // The stack says which of these its tier needs, and rejects the ones it must not get.
    sharedCluster: clusterName === undefined ? undefined : {
      clusterName,
      nodeRoleArn: required(app, 'sharedNodeRoleArn', 'node role ARN of the shared cluster'),
      subnetIds: list(app, 'sharedSubnetIds') ?? [],
    },
    dataBucketName: text(app, 'dataBucketName'),
    namespace: text(app, 'namespace'),
    serviceAccountName: text(app, 'serviceAccountName'),
    kubernetesVersion: text(app, 'kubernetesVersion'),
    controlPlaneCidrs: list(app, 'controlPlaneCidrs'),
    provisioningRoleName: text(app, 'provisioningRoleName'),
  };
}

function analyticsProps(app: App): AnalyticsPipelineProps {
  return {
    shardCount: integer(app, 'analyticsShardCount'),
    handlerEntry: text(app, 'analyticsHandlerEntry'),
    producerRoleArns: list(app, 'siloProducerRoleArns'),
  };
}

/** Builds the app's stacks from its context. */
function buildCdkApp(app: App): App {
  if (text(app, 'analytics') !== 'false') {
    const account = text(app, 'platformAccount');
    const region = text(app, 'platformRegion');
    new AnalyticsPipelineStack(app, ANALYTICS_STACK_NAME, {
      stackName: ANALYTICS_STACK_NAME,
      ...(account !== undefined || region !== undefined ? { env: { account, region } } : {}),
      pipeline: analyticsProps(app),
    });
  }
  const tenantName = text(app, 'tenant');
  if (tenantName !== undefined) new TenantStack(app, tenantStackName(tenantName), tenantProps(app, tenantName));
  return app;
}

// CDK's check of the templates against CloudFormation's schemas costs seconds per synthesis, and
// CloudFormation checks them again at deploy: on with `-c validateTemplates=true`.
const app = new App({ builtinCloudFormationValidation: false });
if (text(app, 'validateTemplates') === 'true') Validations.of(app).addPlugins(new CloudFormationValidatePlugin());
buildCdkApp(app).synth();
