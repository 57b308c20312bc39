// Test support: kinesalite, s3rver and dynalite in this process, with what the analytics tests need to
// start consumers on them and read back what the consumers wrote.
import { DescribeStreamSummaryCommand, ListShardsCommand, PutRecordCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, GetObjectCommand, ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localDynamoDbClientConfig, localS3ClientConfig, startLocalDynamoDb, startLocalS3, type LocalDynamoDb, type LocalS3 } from '../../../local-cloud/index.js';
import { startTestKinesis, type TestKinesis } from '../../private/testing/local-kinesis.js';
import { AnalyticsConsumer, type AnalyticsConsumerProps } from '../consumer.js';
import { ensureLeaseTable, LeaseTable, SHARD_END } from '../leases.js';
import { forEachLimited, type DeadLetterFile } from '../store.js';
import type { DayFile } from '../window.js';

export const BUCKET = 'analytics';

export interface AnalyticsCloud {
  readonly kinesis: TestKinesis;
  readonly s3: LocalS3;
  readonly dynamo: LocalDynamoDb;
  /** A new S3 client of the local S3. */
  s3Client(): S3Client;
  /** A document client of the local DynamoDB. */
  documentClient(): DynamoDBDocumentClient;
  /** A lease table (created) for a stream. */
  leaseTable(name: string): Promise<LeaseTable>;
  /** A consumer of `streamName` with test timings (short leases, quick polls); `overrides` win. */
  consumer(streamName: string, leaseTableName: string, overrides?: Partial<AnalyticsConsumerProps>): AnalyticsConsumer;
  /** Every object under a prefix, parsed. */
  readJsonObjects<T>(prefix: string): Promise<Map<string, T>>;
  readDays(prefix?: string): Promise<Map<string, DayFile>>;
  readDeadLetters(prefix?: string): Promise<DeadLetterFile[]>;
  /** Puts a marker record at the end of every open shard; returns the sequence number of each. */
  markShardEnds(client: KinesisClient, streamName: string): Promise<Map<string, string>>;
  /** Waits until the lease table's checkpoints reach the markers (or SHARD_END). */
  waitForCheckpoints(leaseTableName: string, markers: ReadonlyMap<string, string>, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startAnalyticsCloud(): Promise<AnalyticsCloud> {
  const [kinesis, s3, dynamo] = await Promise.all([startTestKinesis(), startLocalS3(), startLocalDynamoDb()]);
  const s3Client = (): S3Client => new S3Client(localS3ClientConfig(s3));
  const admin = s3Client();
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const dynamoClient = new DynamoDBClient(localDynamoDbClientConfig(dynamo));
  const documentClient = (): DynamoDBDocumentClient => DynamoDBDocumentClient.from(dynamoClient);
  const kinesisClient = kinesis.client();

  const readJsonObjects = async <T>(prefix: string): Promise<Map<string, T>> => {
    const objects = new Map<string, T>();
    // ListObjects (v1) with markers: s3rver's v2 continuation tokens use a cipher OpenSSL 3 refuses (InternalError past 1,000 keys).
    let marker: string | undefined;
    for (;;) {
      const page = await admin.send(new ListObjectsCommand({ Bucket: BUCKET, Prefix: prefix, Marker: marker }));
      // A few at a time: s3rver answers InternalError when it runs out of file handles.
      await forEachLimited(page.Contents ?? [], 8, async ({ Key }) => {
        const object = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
        objects.set(Key ?? '', JSON.parse((await object.Body?.transformToString()) ?? '') as T);
      });
      const keys = page.Contents ?? [];
      if (!page.IsTruncated || keys.length === 0) return objects;
      marker = keys[keys.length - 1]?.Key;
    }
  };

  return {
    kinesis,
    s3,
    dynamo,
    s3Client,
    documentClient,
    leaseTable: async (name) => {
      await ensureLeaseTable(dynamoClient, name);
      return new LeaseTable({ client: documentClient(), tableName: name });
    },
    consumer: (streamName, leaseTableName, overrides = {}) =>
      new AnalyticsConsumer({
        kinesis: kinesisClient,
        streamName,
        dynamoDb: documentClient(),
        leaseTableName,
        s3: s3Client(),
        bucket: BUCKET,
        leaseDurationMs: 2_000,
        shardSyncIntervalMs: 300,
        idleDelayMs: 300,
        ...overrides,
      }),
    readJsonObjects,
    readDays: async (prefix = '') => {
      const files = await readJsonObjects<DayFile>(`${prefix}tenant_daily/`);
      return new Map([...files.values()].map((file) => [`${file.tenant_id}/${file.day}`, file]));
    },
    readDeadLetters: async (prefix = '') => [...(await readJsonObjects<DeadLetterFile>(`${prefix}dead-letter/`)).values()],
    markShardEnds: async (client, streamName) => {
      const markers = new Map<string, string>();
      const shards: Shard[] = (await client.send(new ListShardsCommand({ StreamName: streamName }))).Shards ?? [];
      for (const shard of shards) {
        if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue;
        const put = await client.send(
          new PutRecordCommand({ StreamName: streamName, PartitionKey: 'marker', ExplicitHashKey: shard.HashKeyRange?.StartingHashKey, Data: Buffer.from(`end marker of ${shard.ShardId ?? ''}`) }),
        );
        markers.set(put.ShardId ?? '', put.SequenceNumber ?? '');
      }
      return markers;
    },
    waitForCheckpoints: async (leaseTableName, markers, timeoutMs = 120_000) => {
      const table = new LeaseTable({ client: documentClient(), tableName: leaseTableName });
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const leases = new Map((await table.list()).map((lease) => [lease.shardId, lease.checkpoint]));
        if ([...markers].every(([shardId, marker]) => leases.get(shardId) === marker || leases.get(shardId) === SHARD_END)) return;
        if (Date.now() > deadline) throw new Error(`checkpoints did not reach the markers: ${JSON.stringify([...leases])} vs ${JSON.stringify([...markers])}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    stop: async () => {
      admin.destroy();
      kinesisClient.destroy();
      dynamoClient.destroy();
      await Promise.all([kinesis.stop(), s3.stop(), dynamo.stop()]);
    },
  };
}

/** Waits until a stream is ACTIVE (after a reshard). */
export async function waitForActive(client: KinesisClient, streamName: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`stream ${streamName} did not become ACTIVE`);
}

/** Calls `onPut` after each completed PutObject of a key containing `keyPart`, with the count so far. */
export function watchPuts(client: S3Client, keyPart: string, onPut: (count: number) => void): void {
  let count = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      const key = (args.input as { Key?: string }).Key ?? '';
      if (context.commandName === 'PutObjectCommand' && key.includes(keyPart)) {
        count += 1;
        onPut(count);
      }
      return result;
    },
    { step: 'initialize', name: 'watchPuts' },
  );
}
