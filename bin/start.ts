import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFile, mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient, ResourceInUseException } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type Koa from 'koa';
import {
  Database,
  JOB_MANAGER_EVENT_SOURCE,
  OutboxRelay,
  IdempotencyKeySweeper,
  TenantService,
  createApp,
  createJobManagerApp,
  createTokenVerifier,
  startProvisioningWorkers,
  tenantAccountId,
  tenantLookupFromDatabase,
  type TokenVerifierOptions,
} from '../control-plane/index.js';
import { AnalyticsConsumer, EXECUTOR_EVENT_SOURCE, JobOutboxRelay, JobRepository, createJobsTable, createLoginEventsHandler, ensureLeaseTable, type LoginEventsHandler } from '../data-plane/index.js';
import { ensureKitUserPool, localCognitoClientConfig, localDynamoDbClientConfig, localKinesisClientConfig, localS3ClientConfig, startLocalCloud, type LocalCloud, type LocalCloudPorts } from '../local-cloud/index.js';
import { startLocalExecutors } from './local-executors.js';
import { provisioningDeps, type ProvisioningConfig } from './provisioning.js';

export interface ControlPlaneConfig {
  readonly host: string;
  /** The Tenant Manager's port (0: any free one). */
  readonly port: number;
  /** The Job Manager's port (0: any free one). */
  readonly jobManagerPort: number;
  /** The DynamoDB table of jobs, datasets and their outbox. */
  readonly jobsTable: string;
  /** The analytics consumer's lease and checkpoint table (DynamoDB). */
  readonly analyticsLeaseTable: string;
  /** Simulated job time per real time for the local executors: 0.05 runs a 20 s step in 1 s. */
  readonly executorTimeScale: number;
  /** How tenants are provisioned: the platform their stacks import, and local or AWS providers. */
  readonly provisioning: ProvisioningConfig;
  /** Provisioning workflow steps run at once in this process. */
  readonly provisioningConcurrency: number;
  /** How long an Idempotency-Key replays its first answer; older keys are swept every hour. */
  readonly idempotencyKeyRetentionMs: number;
  /** Where local state lives: PGlite's files, cognito-local's pools, the local endpoints file. */
  readonly dataDir: string;
  /** A Postgres server; unset, PGlite in `${dataDir}/pglite`. */
  readonly databaseUrl?: string;
  /** The region of the shared EKS cluster, for the tier policy. */
  readonly sharedRegion: string;
  /** The central telemetry stream every component puts its events on, and the bucket of the aggregates. */
  readonly telemetry: { readonly streamName: string; readonly bucket: string };
  /**
   * `local`: start the local cloud (Cognito, Kinesis, S3, DynamoDB) in this process, on these ports (0: any),
   * and create the stream and bucket. `aws`: use the real services of `region`, and verify tokens of this
   * Cognito pool; the stream and bucket come from the CDK stacks.
   */
  readonly cloud:
    | { readonly mode: 'local'; readonly ports: Required<LocalCloudPorts> }
    | ({ readonly mode: 'aws'; readonly region: string; readonly userPoolId: string } & Pick<TokenVerifierOptions, 'jwksUrl' | 'issuer' | 'audience'>);
}

/** What `saas-kit token` (and any other local client) reads to reach the services of a running kit. */
export interface LocalEndpoints {
  readonly cognito: { readonly endpoint: string; readonly region: string };
  readonly kinesis: { readonly endpoint: string; readonly region: string; readonly streamName: string };
  readonly s3: { readonly endpoint: string; readonly region: string; readonly bucket: string };
  readonly dynamoDb: { readonly endpoint: string; readonly region: string };
  readonly userPool: { readonly userPoolId: string; readonly clientId: string; readonly issuer: string; readonly jwksUrl: string };
  readonly api: string;
  readonly jobManager: string;
}

export const LOCAL_ENDPOINTS_FILE = 'local-endpoints.json';

export interface RunningControlPlane {
  /** The Tenant Manager. */
  readonly url: string;
  readonly jobManagerUrl: string;
  readonly localEndpoints?: LocalEndpoints;
  close(): Promise<void>;
}

/**
 * Starts what `npm start` runs: the local cloud (or the AWS clients), the migrated database, the Tenant
 * Manager, and the outbox relay that puts the control plane's events on the telemetry stream.
 */
export async function startControlPlane(config: ControlPlaneConfig, logger: Logger): Promise<RunningControlPlane> {
  const stopping: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stopping.reverse()) await stop();
  };
  try {
    let cloud: LocalCloud | undefined;
    let verifierOptions: Pick<TokenVerifierOptions, 'jwksUrl' | 'issuer' | 'audience'>;
    let pool: LocalEndpoints['userPool'] | undefined;
    let kinesis: KinesisClient;
    let s3: S3Client;
    let dynamoDb: DynamoDBClient;
    let cognito: { client: CognitoIdentityProviderClient; userPoolId: string };
    if (config.cloud.mode === 'local') {
      // Cognito's PostAuthentication trigger, in process: the kit's handler puts a tenant user's sign-in on the
      // telemetry stream as user.login (on AWS, the LoginEvents construct's Lambda). It is bound to the local
      // Kinesis client below, before the pool exists, so before anyone can sign in.
      const loginEvents: { handler?: LoginEventsHandler } = {};
      cloud = await startLocalCloud({
        dataDir: config.dataDir,
        ports: config.cloud.ports,
        logger,
        cognitoTriggers: { PostAuthentication: (event) => (loginEvents.handler ? loginEvents.handler(event) : Promise.reject(new Error('The login events handler is not bound to the local Kinesis yet.'))) },
      });
      stopping.push(() => (cloud as LocalCloud).stop());
      kinesis = new KinesisClient(localKinesisClientConfig(cloud.kinesis));
      loginEvents.handler = createLoginEventsHandler({ streamName: config.telemetry.streamName }, { kinesis, logger: logger.child({ component: 'login-events' }) });
      pool = await ensureKitUserPool(cloud.cognito);
      verifierOptions = { jwksUrl: pool.jwksUrl, issuer: pool.issuer, audience: pool.clientId };
      s3 = new S3Client(localS3ClientConfig(cloud.s3));
      dynamoDb = new DynamoDBClient(localDynamoDbClientConfig(cloud.dynamoDb));
      cognito = { client: new CognitoIdentityProviderClient(localCognitoClientConfig(cloud.cognito)), userPoolId: pool.userPoolId };
      await ensureTelemetryResources(kinesis, s3, config.telemetry);
      await createJobsTable(dynamoDb, config.jobsTable);
      await ensureLeaseTable(dynamoDb, config.analyticsLeaseTable);
      logger.info({ cognito: cloud.cognito.endpoint, kinesis: cloud.kinesis.endpoint, s3: cloud.s3.endpoint, dynamoDb: cloud.dynamoDb.endpoint, userPoolId: pool.userPoolId }, 'local cloud ready');
    } else {
      verifierOptions = config.cloud;
      kinesis = new KinesisClient({ region: config.cloud.region });
      s3 = new S3Client({ region: config.cloud.region });
      dynamoDb = new DynamoDBClient({ region: config.cloud.region });
      cognito = { client: new CognitoIdentityProviderClient({ region: config.cloud.region }), userPoolId: config.cloud.userPoolId };
    }
    const documents = DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });
    stopping.push(() => {
      kinesis.destroy();
      s3.destroy();
      dynamoDb.destroy();
      cognito.client.destroy();
      return Promise.resolve();
    });

    const db = new Database(config.databaseUrl ? { url: config.databaseUrl } : { pgliteDataDir: join(config.dataDir, 'pglite') });
    stopping.push(() => db.destroy());
    await db.migrate();
    await new TenantService(db).syncPlans();
    logger.info({ database: db.dialect }, 'database migrated');

    const relay = new OutboxRelay({ db, kinesis, streamName: config.telemetry.streamName, logger: logger.child({ component: 'outbox-relay' }) });
    relay.start();
    stopping.push(() => relay.stop());
    const sweeper = new IdempotencyKeySweeper({ db, retentionMs: config.idempotencyKeyRetentionMs, logger: logger.child({ component: 'idempotency-keys' }) });
    sweeper.start();
    stopping.push(() => sweeper.stop());
    const workers = startProvisioningWorkers({
      db,
      logger: logger.child({ component: 'provisioning' }),
      concurrency: config.provisioningConcurrency,
      exportDir: join(config.dataDir, 'exports'),
      ...provisioningDeps(config.provisioning, cognito),
    });
    stopping.push(() => workers.stop());

    const jobRelay = new JobOutboxRelay({ client: documents, tableName: config.jobsTable, kinesis, streamName: config.telemetry.streamName, logger: logger.child({ component: 'job-outbox-relay' }) });
    jobRelay.start();
    stopping.push(() => jobRelay.stop());

    const verifier = createTokenVerifier(verifierOptions);
    const url = await listen(createApp({ db, verifier, logger, service: { tierPolicy: { sharedRegion: config.sharedRegion }, idempotencyKeyRetentionMs: config.idempotencyKeyRetentionMs } }), config.port);
    const jobs = new JobRepository({ client: documents, tableName: config.jobsTable, eventSource: JOB_MANAGER_EVENT_SOURCE });
    const jobManagerUrl = await listen(createJobManagerApp({ repository: jobs, tenantLookup: tenantLookupFromDatabase(db, (tenantId) => tenantAccountId(db, tenantId)), verifier, logger }), config.jobManagerPort);

    // On AWS the analytics Lambda of the AnalyticsPipeline stack aggregates; locally this consumer does, with the same code.
    if (config.cloud.mode === 'local') {
      const analytics = new AnalyticsConsumer({
        kinesis,
        streamName: config.telemetry.streamName,
        dynamoDb: documents,
        leaseTableName: config.analyticsLeaseTable,
        s3,
        bucket: config.telemetry.bucket,
        idleDelayMs: 500,
        logger: logger.child({ component: 'analytics' }),
      });
      analytics.start();
      stopping.push(() => analytics.stop());
      const executorJobs = new JobRepository({ client: documents, tableName: config.jobsTable, eventSource: EXECUTOR_EVENT_SOURCE });
      const executors = startLocalExecutors({ db, repository: executorJobs, timeScale: config.executorTimeScale, logger: logger.child({ component: 'executor' }) });
      stopping.push(() => executors.stop());
    }

    async function listen(app: Koa, port: number): Promise<string> {
      const server = await new Promise<Server>((resolve, reject) => {
        const listening = app.listen(port, config.host, () => resolve(listening)).once('error', reject);
      });
      stopping.push(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
      });
      return `http://${config.host}:${(server.address() as AddressInfo).port}`;
    }

    let localEndpoints: LocalEndpoints | undefined;
    if (cloud && pool) {
      localEndpoints = {
        cognito: { endpoint: cloud.cognito.endpoint, region: cloud.cognito.region },
        kinesis: { endpoint: cloud.kinesis.endpoint, region: cloud.kinesis.region, streamName: config.telemetry.streamName },
        s3: { endpoint: cloud.s3.endpoint, region: cloud.s3.region, bucket: config.telemetry.bucket },
        dynamoDb: { endpoint: cloud.dynamoDb.endpoint, region: cloud.dynamoDb.region },
        userPool: pool,
        api: url,
        jobManager: jobManagerUrl,
      };
      await mkdir(config.dataDir, { recursive: true });
      await writeFile(join(config.dataDir, LOCAL_ENDPOINTS_FILE), JSON.stringify(localEndpoints, null, 2));
    }

    return { url, jobManagerUrl, ...(localEndpoints ? { localEndpoints } : {}), close: stopAll };
  } catch (error) {
    await stopAll().catch((stopError: unknown) => logger.error({ err: stopError }, 'could not stop what had started'));
    throw error;
  }
}

/** The local cloud starts empty: the stream and the bucket the CDK stacks make on AWS are made here. */
async function ensureTelemetryResources(kinesis: KinesisClient, s3: S3Client, telemetry: ControlPlaneConfig['telemetry']): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: telemetry.streamName, ShardCount: 2 }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  while ((await kinesis.send(new DescribeStreamCommand({ StreamName: telemetry.streamName }))).StreamDescription?.StreamStatus !== 'ACTIVE') {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // CreateBucket of a bucket one already owns succeeds (us-east-1 semantics, which s3rver follows).
  await s3.send(new CreateBucketCommand({ Bucket: telemetry.bucket }));
}
