/**
 * The executor workload of the tier charts: one deployment per tenant, in its namespace (pool), on its node
 * group (bridge) or in its account (silo). `bin/` reads the configuration from the environment and calls
 * `runExecutor`; this module never reads `process.env`.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pino, type Logger } from 'pino';
import { TENANT_NAME_PATTERN, isTierName, type TierName } from '../../tenant-tiers/index.js';
import { placementFor } from '../jobs/model.js';
import { JobOutboxRelay } from '../jobs/job-outbox-relay.js';
import { JobRepository } from '../jobs/repository.js';
import { JobExecutorValidationError } from './errors.js';
import { JobExecutor, type JobExecutorStats } from './executor.js';

/** The `source` of the events the executor writes (the catalog's producer of job.started .. job.cancelled). */
export const EXECUTOR_EVENT_SOURCE = 'data-plane/job-executor';

export interface ExecutorConfig {
  /** The jobs table (see data-plane/jobs/table.ts). */
  readonly tableName: string;
  /** The tenant whose jobs this executor runs, by name, and its tier: they give the placement key. */
  readonly tenantName: string;
  readonly tier: TierName;
  /** DynamoDB client settings (region, endpoint for a local dynalite, credentials). @default {} (the SDK's defaults) */
  readonly dynamoDb?: DynamoDBClientConfig;
  /**
   * Also run an outbox relay in this process, to this stream. Run one relay per table (the control plane's),
   * not one per executor: each extra relay only sends duplicates (dropped by event id downstream).
   * @default - no relay
   */
  readonly relay?: { readonly streamName: string; readonly kinesis?: KinesisClientConfig };
  /** @default - `<hostname>-<random>` */
  readonly workerId?: string;
  /** @default 1 */
  readonly timeScale?: number;
  /** @default 30_000 */
  readonly leaseMs?: number;
  /** @default 1000 */
  readonly pollIntervalMs?: number;
  /** @default - a pino logger at info */
  readonly logger?: Logger;
}

export interface RunningExecutor {
  readonly executor: JobExecutor;
  readonly placementKey: string;
  stats(): JobExecutorStats;
  /** Stops taking jobs, waits for the one in progress, stops the relay, closes the clients. */
  stop(): Promise<void>;
}

/** Starts an executor (and optionally a relay) from a typed configuration. */
export function runExecutor(config: ExecutorConfig): RunningExecutor {
  if (!isTierName(config.tier)) throw new JobExecutorValidationError(`tier must be pool, bridge or silo; received ${JSON.stringify(config.tier)}.`);
  if (typeof config.tenantName !== 'string' || !TENANT_NAME_PATTERN.test(config.tenantName)) {
    throw new JobExecutorValidationError(`tenantName must be the tenant's name (3-40 of a-z, 0-9, -); received ${JSON.stringify(config.tenantName)}.`);
  }
  const logger = config.logger ?? pino({ level: 'info' });
  const raw = new DynamoDBClient(config.dynamoDb ?? {});
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const repository = new JobRepository({ client, tableName: config.tableName, eventSource: EXECUTOR_EVENT_SOURCE });
  const placementKey = placementFor(config.tier, config.tenantName).key;
  const executor = new JobExecutor({
    repository,
    placementKey,
    logger,
    ...(config.workerId !== undefined ? { workerId: config.workerId } : {}),
    ...(config.timeScale !== undefined ? { timeScale: config.timeScale } : {}),
    ...(config.leaseMs !== undefined ? { leaseMs: config.leaseMs } : {}),
    ...(config.pollIntervalMs !== undefined ? { pollIntervalMs: config.pollIntervalMs } : {}),
  });
  let kinesis: KinesisClient | undefined;
  let relay: JobOutboxRelay | undefined;
  if (config.relay) {
    kinesis = new KinesisClient(config.relay.kinesis ?? {});
    relay = new JobOutboxRelay({ client, tableName: config.tableName, kinesis, streamName: config.relay.streamName, logger });
    relay.start();
  }
  executor.start();
  logger.info({ placementKey, workerId: executor.workerId, relay: Boolean(relay) }, 'job executor started');
  return {
    executor,
    placementKey,
    stats: () => executor.stats(),
    stop: async () => {
      await executor.stop();
      await relay?.stop();
      kinesis?.destroy();
      client.destroy();
    },
  };
}
