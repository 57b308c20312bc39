/**
 * The same aggregation as the consumer, as a Lambda handler on a Kinesis event source. Lambda keeps
 * the position in the shard; each invocation loads the shard's state and the tenant-days it touches from
 * S3, so a retry (or a bisected half of a batch) skips what was saved and counts nothing twice. The event
 * source must keep `ParallelizationFactor` at 1: the shard's state assumes one batch of a shard at a time.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { pino, type Logger } from 'pino';
import { aggregationSettings, type AggregationOptions, type ShardRecord } from './aggregator.js';
import { AnalyticsConfigError } from './errors.js';
import { ShardProcessor } from './shard-processor.js';
import { AnalyticsStore } from './store.js';

export interface AnalyticsLambdaConfig {
  readonly bucket: string;
  /** @default '' */
  readonly prefix?: string;
  /** @default - one day of lateness, 20,000 ids per shard */
  readonly aggregation?: AggregationOptions;
}

export interface AnalyticsLambdaDeps {
  /** @default - a new S3Client for the function's region */
  readonly s3?: S3Client;
  /** @default - a pino logger at `info` */
  readonly logger?: Logger;
}

export type AnalyticsLambdaHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

function wholeNumber(env: Readonly<Record<string, string | undefined>>, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new AnalyticsConfigError(`${name} must be a whole number >= 0; received ${JSON.stringify(text)}.`);
  return value;
}

/**
 * The handler's configuration from its environment (the CDK construct sets these):
 * `ANALYTICS_BUCKET` (required), `ANALYTICS_PREFIX`, `ANALYTICS_ALLOWED_LATENESS_MS`, `ANALYTICS_DEDUPE_CAPACITY`.
 */
export function lambdaConfigFromEnvironment(env: Readonly<Record<string, string | undefined>>): AnalyticsLambdaConfig {
  const bucket = env.ANALYTICS_BUCKET;
  if (bucket === undefined || bucket === '') throw new AnalyticsConfigError('ANALYTICS_BUCKET must name the bucket of the aggregates; it is not set.');
  const allowedLatenessMs = wholeNumber(env, 'ANALYTICS_ALLOWED_LATENESS_MS');
  const dedupeCapacity = wholeNumber(env, 'ANALYTICS_DEDUPE_CAPACITY');
  return {
    bucket,
    ...(env.ANALYTICS_PREFIX ? { prefix: env.ANALYTICS_PREFIX } : {}),
    aggregation: { ...(allowedLatenessMs === undefined ? {} : { allowedLatenessMs }), ...(dedupeCapacity === undefined ? {} : { dedupeCapacity }) },
  };
}

/** `shardId-000000000001` of an event source record (its `eventID` is `<shardId>:<sequenceNumber>`). */
function shardIdOf(record: KinesisStreamRecord): string {
  const separator = record.eventID.lastIndexOf(':');
  return separator > 0 ? record.eventID.slice(0, separator) : record.eventID;
}

/** The stream's name from `arn:aws:kinesis:<region>:<account>:stream/<name>`. */
function streamNameOf(record: KinesisStreamRecord): string {
  const arn = record.eventSourceARN;
  return arn.slice(arn.indexOf(':stream/') + ':stream/'.length);
}

function toShardRecord(record: KinesisStreamRecord): ShardRecord {
  return {
    sequenceNumber: record.kinesis.sequenceNumber,
    data: Buffer.from(record.kinesis.data, 'base64'),
    partitionKey: record.kinesis.partitionKey,
    arrivedAtMs: Math.round(record.kinesis.approximateArrivalTimestamp * 1000),
  };
}

/** A Kinesis event source handler with partial batch responses (`ReportBatchItemFailures`). */
export function createHandler(config: AnalyticsLambdaConfig, deps: AnalyticsLambdaDeps = {}): AnalyticsLambdaHandler {
  const settings = aggregationSettings(config.aggregation);
  const store = new AnalyticsStore({ s3: deps.s3 ?? new S3Client({}), bucket: config.bucket, ...(config.prefix === undefined ? {} : { prefix: config.prefix }) });
  const logger = deps.logger ?? pino({ level: 'info' });
  return async (event) => {
    // One event holds records of one shard; grouping keeps the handler right if that ever changes.
    const groups = new Map<string, { streamName: string; records: KinesisStreamRecord[] }>();
    for (const record of event.Records) {
      const key = `${record.eventSourceARN}|${shardIdOf(record)}`;
      const group = groups.get(key) ?? { streamName: streamNameOf(record), records: [] };
      group.records.push(record);
      groups.set(key, group);
    }
    const batchItemFailures: KinesisStreamBatchResponse['batchItemFailures'] = [];
    for (const { streamName, records } of groups.values()) {
      const shardId = shardIdOf(records[0]);
      try {
        const processor = await ShardProcessor.open({ store, streamName, shardId, settings });
        await processor.processBatch(records.map(toShardRecord));
        logger.info({ shardId, records: records.length, stats: processor.stats }, 'analytics: batch aggregated');
      } catch (error) {
        // Nothing of the batch is vouched for: Lambda retries from its first record; what was saved is skipped then.
        logger.error({ err: error, shardId }, 'analytics: batch failed; Lambda retries it');
        batchItemFailures.push({ itemIdentifier: (records[0]).kinesis.sequenceNumber });
      }
    }
    return { batchItemFailures };
  };
}
