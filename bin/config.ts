import { z } from 'zod';
import type { ExecutorConfig } from '../data-plane/index.js';
import { TENANT_NAME_PATTERN, TIER_NAMES, validateControlPlaneCidrs } from '../tenant-tiers/index.js';
import type { PlatformDescription } from './provisioning.js';
import type { ControlPlaneConfig } from './start.js';

/**
 * The kit's configuration: read once from the environment, validated, and passed down.
 * No other module reads process.env.
 */
const Env = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  JOB_MANAGER_PORT: z.coerce.number().int().min(0).max(65_535).default(3001),
  JOBS_TABLE: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'a DynamoDB table name').default('saas-kit-jobs'),
  ANALYTICS_LEASE_TABLE: z.string().regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'a DynamoDB table name').default('saas-kit-analytics-leases'),
  EXECUTOR_TIME_SCALE: z.coerce.number().positive().max(1).default(0.05),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_URL must be a postgres:// URL' }).optional(),
  SAAS_KIT_DATA_DIR: z.string().default('.data'),
  SAAS_KIT_SHARED_REGION: z.string().default('us-east-1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOCAL_COGNITO_PORT: z.coerce.number().int().min(0).max(65_535).default(9229),
  LOCAL_KINESIS_PORT: z.coerce.number().int().min(0).max(65_535).default(4567),
  LOCAL_DYNAMODB_PORT: z.coerce.number().int().min(0).max(65_535).default(4568),
  LOCAL_S3_PORT: z.coerce.number().int().min(0).max(65_535).default(4569),
  TELEMETRY_STREAM: z.string().regex(/^[a-zA-Z0-9_.-]{1,128}$/, 'a Kinesis stream name').default('saas-kit-events'),
  // The platform the tenant stacks import from; the defaults describe the local kit's simulated one.
  PLATFORM_ACCOUNT_ID: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id').default('000000000000'),
  SHARED_CLUSTER_NAME: z.string().min(1).default('saas-kit-shared'),
  SHARED_CLUSTER_NODE_ROLE_ARN: z.string().startsWith('arn:').optional(),
  SHARED_CLUSTER_SUBNET_IDS: z.string().regex(/^subnet-[0-9a-f]+(,subnet-[0-9a-f]+)*$/, 'comma-separated subnet ids').default('subnet-00000000000000000,subnet-00000000000000001'),
  TENANT_DATA_BUCKET: z.string().optional(),
  EVENT_STREAM_KEY_ARN: z.string().startsWith('arn:').optional(),
  TENANTS_OU_ID: z.string().regex(/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/, 'an Organizations OU id').optional(),
  // The control plane's egress CIDRs: silo clusters open the public side of their API endpoint to these only.
  CONTROL_PLANE_CIDRS: z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return undefined;
      const cidrs = value.split(',').map((cidr) => cidr.trim());
      try {
        validateControlPlaneCidrs(cidrs);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: `comma-separated IPv4 CIDRs of the control plane; ${(error as Error).message}` });
        return z.NEVER;
      }
      return cidrs;
    }),
  EXECUTOR_IMAGE: z.string().min(1).default('saas-tenancy-kit:0.1.0'),
  PROVISIONING_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  IDEMPOTENCY_KEY_RETENTION_HOURS: z.coerce.number().positive().max(24 * 365).default(24),
  LOCAL_ACCOUNT_CREATION_MS: z.coerce.number().int().min(0).default(2000),
  LOCAL_STACK_DEPLOY_MS: z.coerce.number().int().min(0).default(1000),
  ANALYTICS_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name').default('saas-kit-analytics'),
  // Set all three to verify tokens of a real Cognito user pool instead of the local one.
  COGNITO_USER_POOL_ID: z.string().optional(),
  COGNITO_CLIENT_ID: z.string().optional(),
  AWS_REGION: z.string().optional(),
});

export interface KitConfig {
  readonly controlPlane: ControlPlaneConfig;
  readonly logLevel: z.infer<typeof Env>['LOG_LEVEL'];
}

/** What the executor container of a tenant's chart gets: the chart sets TENANT_*, the platform the rest. */
const ExecutorEnv = z.object({
  TENANT_NAME: z.string().regex(TENANT_NAME_PATTERN, "the tenant's name"),
  TENANT_TIER: z.enum(TIER_NAMES),
  JOBS_TABLE: z.string().default('saas-kit-jobs'),
  AWS_REGION: z.string().optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
  EXECUTOR_TIME_SCALE: z.coerce.number().positive().max(1).default(1),
  EXECUTOR_LEASE_MS: z.coerce.number().int().min(1000).default(30_000),
  EXECUTOR_POLL_MS: z.coerce.number().int().min(10).default(1000),
  // Kubernetes sets HOSTNAME to the pod's name: a worker id that says which pod holds a job.
  HOSTNAME: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** The job executor's configuration (`saas-kit executor`, the command of the executor Deployment). */
export function loadExecutorConfig(env: NodeJS.ProcessEnv = process.env): Omit<ExecutorConfig, 'logger'> & { readonly logLevel: string } {
  const parsed = ExecutorEnv.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid executor configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    tableName: e.JOBS_TABLE,
    tenantName: e.TENANT_NAME,
    tier: e.TENANT_TIER,
    dynamoDb: { ...(e.AWS_REGION ? { region: e.AWS_REGION } : {}), ...(e.DYNAMODB_ENDPOINT ? { endpoint: e.DYNAMODB_ENDPOINT } : {}) },
    timeScale: e.EXECUTOR_TIME_SCALE,
    leaseMs: e.EXECUTOR_LEASE_MS,
    pollIntervalMs: e.EXECUTOR_POLL_MS,
    ...(e.HOSTNAME ? { workerId: e.HOSTNAME } : {}),
    logLevel: e.LOG_LEVEL,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): KitConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const cognitoSettings = [e.COGNITO_USER_POOL_ID, e.COGNITO_CLIENT_ID, e.AWS_REGION].filter(Boolean).length;
  if (cognitoSettings > 0 && (!e.COGNITO_USER_POOL_ID || !e.COGNITO_CLIENT_ID || !e.AWS_REGION)) {
    throw new Error('Invalid configuration: to use a real Cognito pool set COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID and AWS_REGION together; unset all three for the local one.');
  }
  const aws = Boolean(e.COGNITO_USER_POOL_ID && e.COGNITO_CLIENT_ID && e.AWS_REGION);
  if (aws && !e.TENANTS_OU_ID) throw new Error('Invalid configuration: on AWS set TENANTS_OU_ID, the Organizations OU silo accounts move into.');
  const region = e.AWS_REGION ?? e.SAAS_KIT_SHARED_REGION;
  const account = e.PLATFORM_ACCOUNT_ID;
  const platform: PlatformDescription = {
    accountId: account,
    region: e.SAAS_KIT_SHARED_REGION,
    sharedCluster: {
      clusterName: e.SHARED_CLUSTER_NAME,
      nodeRoleArn: e.SHARED_CLUSTER_NODE_ROLE_ARN ?? `arn:aws:iam::${account}:role/${e.SHARED_CLUSTER_NAME}-nodes`,
      subnetIds: e.SHARED_CLUSTER_SUBNET_IDS.split(','),
    },
    dataBucketName: e.TENANT_DATA_BUCKET ?? `saas-kit-data-${account}`,
    eventStream: { streamArn: `arn:aws:kinesis:${region}:${account}:stream/${e.TELEMETRY_STREAM}`, ...(e.EVENT_STREAM_KEY_ARN ? { encryptionKeyArn: e.EVENT_STREAM_KEY_ARN } : {}) },
    ...(e.CONTROL_PLANE_CIDRS ? { controlPlaneCidrs: e.CONTROL_PLANE_CIDRS } : {}),
  };
  const issuer = e.COGNITO_USER_POOL_ID && e.AWS_REGION ? `https://cognito-idp.${e.AWS_REGION}.amazonaws.com/${e.COGNITO_USER_POOL_ID}` : undefined;
  return {
    logLevel: e.LOG_LEVEL,
    controlPlane: {
      host: e.HOST,
      port: e.PORT,
      jobManagerPort: e.JOB_MANAGER_PORT,
      jobsTable: e.JOBS_TABLE,
      analyticsLeaseTable: e.ANALYTICS_LEASE_TABLE,
      executorTimeScale: e.EXECUTOR_TIME_SCALE,
      provisioningConcurrency: e.PROVISIONING_CONCURRENCY,
      idempotencyKeyRetentionMs: Math.max(60_000, Math.round(e.IDEMPOTENCY_KEY_RETENTION_HOURS * 3_600_000)),
      provisioning: {
        platform,
        executorImage: e.EXECUTOR_IMAGE,
        providers:
          aws && e.TENANTS_OU_ID
            ? { mode: 'aws', tenantsOuId: e.TENANTS_OU_ID }
            : { mode: 'local', dataDir: e.SAAS_KIT_DATA_DIR, accountCreationDelayMs: e.LOCAL_ACCOUNT_CREATION_MS, stackDeployDelayMs: e.LOCAL_STACK_DEPLOY_MS },
      },
      dataDir: e.SAAS_KIT_DATA_DIR,
      ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
      sharedRegion: e.SAAS_KIT_SHARED_REGION,
      telemetry: { streamName: e.TELEMETRY_STREAM, bucket: e.ANALYTICS_BUCKET },
      cloud:
        issuer && e.COGNITO_CLIENT_ID && e.AWS_REGION
          ? { mode: 'aws', region: e.AWS_REGION, userPoolId: e.COGNITO_USER_POOL_ID ?? '', issuer, jwksUrl: `${issuer}/.well-known/jwks.json`, audience: e.COGNITO_CLIENT_ID }
          : { mode: 'local', ports: { cognito: e.LOCAL_COGNITO_PORT, kinesis: e.LOCAL_KINESIS_PORT, dynamoDb: e.LOCAL_DYNAMODB_PORT, s3: e.LOCAL_S3_PORT } },
    },
  };
}
