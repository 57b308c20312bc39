import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localS3ClientConfig, startLocalS3, type LocalS3 } from '../../local-cloud/index.js';
import type { KitEvent } from '../index.js';
import { AnalyticsConfigError } from './errors.js';
import { createHandler, lambdaConfigFromEnvironment } from './lambda.js';
import { AnalyticsStore } from './store.js';
import { syntheticTelemetry } from './synthetic.js';
import { expectedDays } from './testing/ground-truth.js';

const ARN = 'arn:aws:kinesis:us-east-1:000000000000:stream/telemetry';
const SHARD = 'shardId-000000000004';
const silent = pino({ level: 'silent' });

let s3: LocalS3;
let client: S3Client;

beforeAll(async () => {
  s3 = await startLocalS3();
  client = new S3Client(localS3ClientConfig(s3));
  await client.send(new CreateBucketCommand({ Bucket: 'lambda' }));
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
});

function streamRecords(events: readonly KitEvent[]): KinesisStreamRecord[] {
  return events.map((event, index) => {
    const sequenceNumber = `4959${String(index + 1).padStart(52, '0')}`;
    return {
      eventID: `${SHARD}:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      eventSource: 'aws:kinesis',
      eventSourceARN: ARN,
      eventVersion: '1.0',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/analytics',
      awsRegion: 'us-east-1',
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: event.subject,
        sequenceNumber,
        data: Buffer.from(JSON.stringify(event)).toString('base64'),
        approximateArrivalTimestamp: Date.parse(event.time) / 1000,
      },
    };
  });
}

function take<T>(items: Iterable<T>, count: number): T[] {
  const taken: T[] = [];
  for (const item of items) {
    if (taken.length >= count) break;
    taken.push(item);
  }
  return taken;
}

describe('the Lambda handler', () => {
  it('aggregates like the consumer, and a retried or bisected batch counts nothing twice', async () => {
    const handler = createHandler({ bucket: 'lambda', prefix: 'fn/' }, { s3: client, logger: silent });
    const events = take(syntheticTelemetry({ tenants: 15, seed: 9, meanSessionGapMs: 40_000 }), 3_000);
    const records = streamRecords(events);
    const batch = (from: number, to: number): KinesisStreamEvent => ({ Records: records.slice(from, to) });

    expect(await handler(batch(0, 1_000))).toEqual({ batchItemFailures: [] });
    // Lambda retries a batch (after a timeout), then bisects the next one and retries its halves.
    expect(await handler(batch(0, 1_000))).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(1_000, 2_000))).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(1_000, 1_500))).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(1_500, 2_000))).toEqual({ batchItemFailures: [] });
    expect(await handler(batch(2_000, 3_000))).toEqual({ batchItemFailures: [] });

    const store = new AnalyticsStore({ s3: client, bucket: 'lambda', prefix: 'fn/' });
    for (const [key, want] of expectedDays(events)) {
      const [tenantId, day] = key.split('/') as [string, string];
      const file = await store.loadDay(tenantId, Date.parse(`${day}T00:00:00.000Z`));
      expect({ key, logins: file?.logins, sessions: file?.sessions, idle: file?.idle_sessions, users: file?.active_users, uploads: file?.upload_bytes, vcpu: file?.vcpu_ms, jobs: file?.jobs_submitted }).toEqual({
        key,
        logins: want.logins,
        sessions: want.sessions,
        idle: want.idle_sessions,
        users: want.active_users,
        uploads: want.upload_bytes,
        vcpu: want.vcpu_ms,
        jobs: want.jobs_submitted,
      });
    }
    const state = await store.loadShardState('telemetry', SHARD);
    expect(state?.processedUpTo).toBe(records[2_999]?.kinesis.sequenceNumber);
  });

  it('reports the first record of a batch it could not save, for Lambda to retry from', async () => {
    const handler = createHandler({ bucket: 'no-such-bucket' }, { s3: client, logger: silent });
    const records = streamRecords(take(syntheticTelemetry({ tenants: 2, seed: 1 }), 5));
    expect(await handler({ Records: records })).toEqual({ batchItemFailures: [{ itemIdentifier: records[0]?.kinesis.sequenceNumber }] });
  });

  it('reads its configuration from the environment, and says what is missing', () => {
    expect(lambdaConfigFromEnvironment({ ANALYTICS_BUCKET: 'b', ANALYTICS_PREFIX: 'a/', ANALYTICS_ALLOWED_LATENESS_MS: '3600000' })).toEqual({
      bucket: 'b',
      prefix: 'a/',
      aggregation: { allowedLatenessMs: 3_600_000 },
    });
    expect(() => lambdaConfigFromEnvironment({})).toThrow(AnalyticsConfigError);
    expect(() => lambdaConfigFromEnvironment({ ANALYTICS_BUCKET: 'b', ANALYTICS_DEDUPE_CAPACITY: 'many' })).toThrow(/ANALYTICS_DEDUPE_CAPACITY must be a whole number/);
  });
});
