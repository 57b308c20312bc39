import { z } from 'zod';
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
  const issuer = e.COGNITO_USER_POOL_ID && e.AWS_REGION ? `https://cognito-idp.${e.AWS_REGION}.amazonaws.com/${e.COGNITO_USER_POOL_ID}` : undefined;
  return {
    logLevel: e.LOG_LEVEL,
    controlPlane: {
      host: e.HOST,
      port: e.PORT,
      jobManagerPort: e.JOB_MANAGER_PORT,
      jobsTable: e.JOBS_TABLE,
      executorTimeScale: e.EXECUTOR_TIME_SCALE,
      dataDir: e.SAAS_KIT_DATA_DIR,
      ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
      sharedRegion: e.SAAS_KIT_SHARED_REGION,
      telemetry: { streamName: e.TELEMETRY_STREAM, bucket: e.ANALYTICS_BUCKET },
      cloud:
        issuer && e.COGNITO_CLIENT_ID && e.AWS_REGION
          ? { mode: 'aws', region: e.AWS_REGION, issuer, jwksUrl: `${issuer}/.well-known/jwks.json`, audience: e.COGNITO_CLIENT_ID }
          : { mode: 'local', ports: { cognito: e.LOCAL_COGNITO_PORT, kinesis: e.LOCAL_KINESIS_PORT, dynamoDb: e.LOCAL_DYNAMODB_PORT, s3: e.LOCAL_S3_PORT } },
    },
  };
}
