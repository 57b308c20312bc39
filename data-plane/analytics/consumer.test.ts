import { PutRecordsCommand, SplitShardCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, KinesisProducer, MAX_EVENT_BYTES, type KitEvent } from '../index.js';
import { injectPutRecordsFailures } from '../private/testing/kinesis-faults.js';
import { syntheticTelemetry } from './synthetic.js';
import { startAnalyticsCloud, waitForActive, watchPuts, type AnalyticsCloud } from './testing/analytics-cloud.js';
import { exactQuantile, expectedDays, type ExpectedWindow } from './testing/ground-truth.js';
import type { DayFile, WindowMetrics } from './window.js';

let cloud: AnalyticsCloud;

beforeAll(async () => {
  cloud = await startAnalyticsCloud();
});

afterAll(async () => {
  await cloud?.stop();
});

/** Counts and sums of a window, without the approximate percentiles. */
function exact(metrics: WindowMetrics | ExpectedWindow): Record<string, number> {
  const keys = ['registrations', 'logins', 'active_users', 'sessions', 'idle_sessions', 'uploads', 'upload_bytes', 'datasets_created', 'datasets_deleted', 'dataset_bytes_net', 'jobs_submitted', 'jobs_started', 'jobs_succeeded', 'jobs_failed', 'jobs_cancelled', 'vcpu_ms', 'job_bytes_read', 'job_bytes_written'] as const;
  return Object.fromEntries(keys.map((key) => [key, metrics[key]]));
}

function withinSketchAccuracy(value: number | null, durations: readonly number[], quantile: number): boolean {
  const want = exactQuantile(durations, quantile);
  if (want === null) return value === null;
  return value !== null && Math.abs(value - want) <= want * 0.01 + 1e-9;
}

/** Compares the files with the events' own numbers; returns how many windows were compared. */
function compare(files: ReadonlyMap<string, DayFile>, events: readonly KitEvent[]): number {
  const expected = expectedDays(events);
  expect([...files.keys()].sort()).toEqual([...expected.keys()].sort());
  let windows = 0;
  for (const [key, want] of expected) {
    const got = files.get(key) as DayFile;
    expect({ key, ...exact(got) }).toEqual({ key, ...exact(want) });
    expect(withinSketchAccuracy(got.duration_p50_ms, want.durations, 0.5) && withinSketchAccuracy(got.duration_p95_ms, want.durations, 0.95)).toBe(true);
    expect(got.hours.map((row) => row.hour)).toEqual([...want.hours.keys()].sort((a, b) => a - b));
    for (const row of got.hours) {
      const hour = want.hours.get(row.hour) as ExpectedWindow;
      expect({ key, hour: row.hour, ...exact(row) }).toEqual({ key, hour: row.hour, ...exact(hour) });
      expect(withinSketchAccuracy(row.duration_p50_ms, hour.durations, 0.5) && withinSketchAccuracy(row.duration_p95_ms, hour.durations, 0.95)).toBe(true);
      windows += 1;
    }
    windows += 1;
  }
  return windows;
}

function* take<T>(items: Iterable<T>, count: number): Generator<T> {
  let taken = 0;
  for (const item of items) {
    if (taken >= count) return;
    yield item;
    taken += 1;
  }
}

describe('AnalyticsConsumer against kinesalite, s3rver and dynalite', () => {
  it('ground truth: 100,000 events, 10% of PutRecords entries failing, repeats, two kills: the files equal the events', async () => {
    const stream = 'ground-truth';
    const leases = 'ground-truth-leases';
    await cloud.kinesis.createStream(stream, 3);
    await cloud.leaseTable(leases);

    const events = [...take(syntheticTelemetry({ tenants: 300, seed: 42, meanSessionGapMs: 30_000 }), 100_000)];
    const producerClient = cloud.kinesis.client({ maxAttempts: 1 });
    const faults = injectPutRecordsFailures(producerClient, { rate: 0.1 });
    const producer = new KinesisProducer({ client: producerClient, streamName: stream, maxAttempts: 30, baseDelayMs: 20, maxDelayMs: 500 });

    // Consumer A is killed after its 200th day-file write, B after its 300th: both between saving a batch and checkpointing it.
    const kills: Promise<void>[] = [];
    const startKillable = (name: string, after: number) => {
      const s3 = cloud.s3Client();
      const consumer = cloud.consumer(stream, leases, { s3, workerId: name, aggregation: { dedupeCapacity: 5_000, allowedLatenessMs: 86_400_000 } });
      watchPuts(s3, 'tenant_daily/', (count) => {
        if (count === after) kills.push(consumer.kill());
      });
      consumer.start();
      return consumer;
    };
    let repeats = 0;
    for (const [index, event] of events.entries()) {
      await producer.send({ partitionKey: event.subject, data: JSON.stringify(event) });
      // A producer that sends an event again (a lost response, a restarted outbox relay): same id, a few records later.
      if (index % 199 === 0 && index > 0) {
        const again = events[index - 7];
        await producer.send({ partitionKey: again.subject, data: JSON.stringify(again) });
        repeats += 1;
      }
    }
    await producer.close();
    expect(faults.injected).toBeGreaterThan(5_000);
    const markers = await cloud.markShardEnds(cloud.kinesis.client(), stream);
    const a = startKillable('consumer-a', 200);

    await expect.poll(() => kills.length, { timeout: 60_000, interval: 100 }).toBe(1);
    await Promise.all(kills);
    const b = startKillable('consumer-b', 300);
    await expect.poll(() => kills.length, { timeout: 60_000, interval: 100 }).toBe(2);
    await Promise.all(kills);
    const c = cloud.consumer(stream, leases, { workerId: 'consumer-c', aggregation: { dedupeCapacity: 5_000, allowedLatenessMs: 86_400_000 } });
    c.start();
    await cloud.waitForCheckpoints(leases, markers);
    await c.stop();

    // The kills hit between saving and checkpointing: what was saved was read again, and skipped.
    expect(a.stats.applied).toBeGreaterThan(0);
    expect(b.stats.replayed + c.stats.replayed).toBeGreaterThan(0);
    const duplicates = a.stats.duplicates + b.stats.duplicates + c.stats.duplicates;
    expect(duplicates).toBeGreaterThanOrEqual(repeats);

    const windows = compare(await cloud.readDays(), events);
    expect(windows).toBeGreaterThan(1_000);
    // The only dead letters are the end markers.
    const letters = await cloud.readDeadLetters();
    expect(letters.map((letter) => letter.reason)).toEqual(['malformed-json', 'malformed-json', 'malformed-json']);
  }, 170_000);

  it('aggregates records another client put, and dead-letters malformed, unknown, tenantless and oversize records with their reasons', async () => {
    const stream = 'foreign';
    const leases = 'foreign-leases';
    const prefix = 'foreign/';
    await cloud.kinesis.createStream(stream, 1);
    await cloud.leaseTable(leases);
    const tenantId = '3d0f3e8e-2b6a-4b8e-9f0e-6f1c2d3e4a5b';
    const login = createEvent({ type: 'user.login', source: 'another-team/sso', tenantId, time: new Date('2024-06-03T10:00:00.000Z'), data: { userId: 'c6f3f1a4-1d2e-4b8a-9a57-3f0e6a1b2c3d', sessionId: 'x' } });
    const upload = createEvent({ type: 'datalake.object.uploaded', source: 'another-team/etl', tenantId, time: new Date('2024-06-03T10:05:00.000Z'), data: { key: 'k', bytes: 4_096 } });
    const client: KinesisClient = cloud.kinesis.client();
    const entry = (data: string | Buffer, partitionKey = tenantId) => ({ PartitionKey: partitionKey, Data: typeof data === 'string' ? Buffer.from(data) : data });
    await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: [
          entry(JSON.stringify(login)),
          entry('{"specversion":"1.0",'),
          entry(JSON.stringify({ ...upload, type: 'datalake.object.teleported' })),
          entry(JSON.stringify({ ...upload, subject: undefined }), 'no-tenant'),
          entry(JSON.stringify({ ...upload, data: { ...upload.data, key: 'k'.repeat(MAX_EVENT_BYTES) } })),
          entry(JSON.stringify(upload)),
        ],
      }),
    );
    const markers = await cloud.markShardEnds(client, stream);
    const consumer = cloud.consumer(stream, leases, { prefix });
    consumer.start();
    await cloud.waitForCheckpoints(leases, markers);
    await consumer.stop();

    const day = (await cloud.readDays(prefix)).get(`${tenantId}/2024-06-03`);
    expect(day).toMatchObject({ logins: 1, active_users: 1, sessions: 1, idle_sessions: 1, uploads: 1, upload_bytes: 4_096 });
    const letters = await cloud.readDeadLetters(prefix);
    expect(letters.map((letter) => letter.reason).sort()).toEqual(['malformed-json', 'malformed-json', 'missing-tenant', 'oversize', 'unknown-type']);
    expect(consumer.stats.deadLetters).toEqual({ 'malformed-json': 2, 'missing-tenant': 1, oversize: 1, 'unknown-type': 1 });
    const unknown = letters.find((letter) => letter.reason === 'unknown-type');
    expect(unknown?.detail).toMatch(/datalake\.object\.teleported/);
    expect(JSON.parse(Buffer.from(unknown?.data_base64 ?? '', 'base64').toString('utf8'))).toMatchObject({ type: 'datalake.object.teleported', id: upload.id });
    expect(unknown?.shard_id).toMatch(/^shardId-/);
  }, 60_000);

  it('reads parents before children after a reshard, and counts exactly across it, repeats of parent records included', async () => {
    const stream = 'reshard';
    const leases = 'reshard-leases';
    const prefix = 'reshard/';
    await cloud.kinesis.createStream(stream, 1);
    await cloud.leaseTable(leases);
    const client = cloud.kinesis.client();
    const events = [...take(syntheticTelemetry({ tenants: 40, seed: 5, meanSessionGapMs: 60_000 }), 3_000)];
    const put = async (batch: readonly KitEvent[]) => {
      for (let start = 0; start < batch.length; start += 500) {
        await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch.slice(start, start + 500).map((event) => ({ PartitionKey: event.subject, Data: Buffer.from(JSON.stringify(event)) })) }));
      }
    };
    await put(events.slice(0, 1_500));
    const [parent] = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
    await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: parent?.ShardId, NewStartingHashKey: (2n ** 127n).toString() }));
    await waitForActive(client, stream);
    // The producer's retries of records the parent took land in the children: still counted once.
    await put([...events.slice(1_500), ...events.slice(1_400, 1_500)]);
    const markers = await cloud.markShardEnds(client, stream);
    expect(markers.size).toBe(2);

    // Record the order: every GetShardIterator of a child must come after its parent's SHARD_END checkpoint.
    const order: string[] = [];
    const kinesis = cloud.kinesis.client();
    kinesis.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'GetShardIteratorCommand') order.push(`read ${(args.input as { ShardId: string }).ShardId}`);
        return next(args);
      },
      { step: 'initialize', name: 'recordOrder' },
    );
    const documents = cloud.documentClient();
    documents.middlewareStack.add(
      (next, context) => (args) => {
        // Seen before or after marshalling, depending on the client's stack: look for the values in either form.
        const input = JSON.stringify(args.input);
        const shard = /"shardId":(?:\{"S":)?"([^"]+)"/.exec(input)?.[1];
        if (String(context.commandName).startsWith('Update') && input.includes('"SHARD_END"')) order.push(`end ${shard ?? ''}`);
        return next(args);
      },
      { step: 'initialize', name: 'recordEnds' },
    );
    const consumer = cloud.consumer(stream, leases, { prefix, kinesis, dynamoDb: documents });
    consumer.start();
    await cloud.waitForCheckpoints(leases, markers);
    await consumer.stop();

    const parentId = parent?.ShardId ?? '';
    const parentEnd = order.indexOf(`end ${parentId}`);
    expect(parentEnd).toBeGreaterThan(-1);
    for (const child of markers.keys()) expect(order.indexOf(`read ${child}`)).toBeGreaterThan(parentEnd);
    expect(consumer.stats.shardsEnded).toBe(1);
    compare(await cloud.readDays(prefix), events);
  }, 60_000);
});
