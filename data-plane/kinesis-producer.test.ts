import { randomUUID } from 'node:crypto';

import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import {
  KinesisProducer,
  KinesisProducerClosedError,
  KinesisProducerError,
  KinesisProducerValidationError,
  KinesisRecordTooLargeError,
  KinesisUndeliveredError,
  type KinesisProducerProps,
  type KinesisRecord,
  type KinesisRecordFailure,
} from './kinesis-producer.js';
import { gatePutRecords, injectPutRecordsFailures, recordPutRecordsCalls } from './private/testing/kinesis-faults.js';
import { startTestKinesis, type StoredRecord, type TestKinesis } from './private/testing/local-kinesis.js';

const MiB = 1024 * 1024;

/** Retry fast in tests: the backoff shape is the same, the scale smaller. */
const FAST_RETRIES = { baseDelayMs: 2, maxDelayMs: 20 } as const;

let kinesis: TestKinesis;
const clients: KinesisClient[] = [];
const producers: KinesisProducer<KinesisRecord>[] = [];

function newClient(config: Parameters<TestKinesis['client']>[0] = {}): KinesisClient {
  const client = kinesis.client(config);
  clients.push(client);
  return client;
}

function newProducer<R extends KinesisRecord>(props: KinesisProducerProps<R>): KinesisProducer<R> {
  const producer = new KinesisProducer<R>(props);
  producers.push(producer as unknown as KinesisProducer<KinesisRecord>);
  return producer;
}

async function newStream(shards = 2): Promise<string> {
  const name = `events-${randomUUID().slice(0, 8)}`;
  await kinesis.createStream(name, shards);
  return name;
}

function texts(records: readonly StoredRecord[]): string[] {
  return records.map((record) => Buffer.from(record.Data ?? new Uint8Array()).toString('utf8'));
}

/** Resolves with 'pending' when the promise has not settled within `ms`. */
async function stateAfter(promise: Promise<unknown>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

beforeAll(async () => {
  kinesis = await startTestKinesis();
});

afterEach(async () => {
  await Promise.allSettled(producers.splice(0).map((producer) => producer.close()));
  clients.splice(0).forEach((client) => client.destroy());
});

afterAll(async () => {
  await kinesis?.stop();
});

describe('KinesisProducer against kinesalite', () => {
  it('delivers 20,000 records over 50 partition keys exactly once while 10% of the entries fail, in batches within the limits', async () => {
    const streamName = await newStream(4);
    const client = newClient();
    const calls = recordPutRecordsCalls(client);
    const faults = injectPutRecordsFailures(client, { rate: 0.1 });
    const failures: KinesisRecordFailure[] = [];
    const producer = newProducer({ client, streamName, ...FAST_RETRIES, onFailure: (failed) => void failures.push(...failed) });

    const total = 20_000;
    for (let id = 0; id < total; id += 1) {
      const tenantId = `tenant-${id % 50}`;
      await producer.send({ partitionKey: tenantId, data: JSON.stringify({ id, tenantId, type: 'user.login' }) });
    }
    await producer.close();

    const stored = await kinesis.readAll(streamName);
    const seen = new Map<number, number>();
    for (const record of stored) {
      const event = JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')) as { id: number; tenantId: string };
      expect(record.PartitionKey).toBe(event.tenantId);
      seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
    }
    expect(failures).toEqual([]);
    expect(stored).toHaveLength(total);
    expect(seen.size).toBe(total);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(new Set(stored.map((record) => record.PartitionKey)).size).toBe(50);

    const stats = producer.stats();
    expect(faults.injected).toBeGreaterThan(total * 0.08);
    expect(stats).toMatchObject({ sent: total, failed: 0, retried: faults.injected, buffered: 0, bufferedBytes: 0, batches: calls.length });
    expect(stats.bytes).toBe(stored.reduce((sum, record) => sum + Buffer.byteLength(record.PartitionKey ?? '') + (record.Data?.byteLength ?? 0), 0));
    expect(Math.max(...calls.map((call) => call.records))).toBe(500);
    expect(calls.every((call) => call.records <= 500 && call.bytes <= 5 * MiB)).toBe(true);
  });

  it('keeps every PutRecords call within 5 MiB, counting partition keys, and accepts a record of exactly 1 MiB', async () => {
    const streamName = await newStream(2);
    const client = newClient();
    const calls = recordPutRecordsCalls(client);
    const producer = newProducer({ client, streamName, lingerMs: 10_000 });

    const key = 'tenant-with-a-long-partition-key';
    const bigData = (fill: string) => fill.repeat(300 * 1024);
    for (let index = 0; index < 40; index += 1) {
      await producer.send({ partitionKey: key, data: bigData(String.fromCharCode(97 + (index % 26))) });
    }
    await producer.flush();
    // 300 KiB of data and 32 bytes of key: 17 such records fit in 5 MiB, 18 do not.
    expect(calls.map((call) => call.records)).toEqual([17, 17, 6]);

    const exact = 'x'.repeat(MiB - Buffer.byteLength('k'));
    for (let index = 0; index < 6; index += 1) {
      await producer.send({ partitionKey: 'k', data: exact });
    }
    await producer.flush();
    expect(calls.slice(3)).toEqual([
      { records: 5, bytes: 5 * MiB },
      { records: 1, bytes: MiB },
    ]);
    expect(calls.every((call) => call.bytes <= 5 * MiB)).toBe(true);
    const stored = await kinesis.readAll(streamName);
    expect(stored).toHaveLength(46);
    expect(stored.filter((record) => record.Data?.byteLength === MiB - 1)).toHaveLength(6);
  });

  it('waits in send() while the buffer is full, and lets the caller in when a batch is delivered', async () => {
    const streamName = await newStream(1);
    const client = newClient();
    const gate = gatePutRecords(client);
    const producer = newProducer({ client, streamName, lingerMs: 0, maxBufferedRecords: 3, maxBatchRecords: 2 });

    await producer.send({ partitionKey: 't', data: 'one' });
    await producer.send({ partitionKey: 't', data: 'two' });
    await producer.send({ partitionKey: 't', data: 'three' });
    const fourth = producer.send({ partitionKey: 't', data: 'four' });
    const fifth = producer.send({ partitionKey: 't', data: 'five' });

    expect(await stateAfter(fourth, 150)).toBe('pending');
    expect(await stateAfter(fifth, 0)).toBe('pending');
    expect(gate.waiting).toBeGreaterThan(0);
    expect(producer.stats().buffered).toBe(3);

    gate.open();
    await fourth;
    await fifth;
    await producer.close();
    expect(texts(await kinesis.readAll(streamName)).sort()).toEqual(['five', 'four', 'one', 'three', 'two']);
  });

  it('does not linger while senders wait for room', async () => {
    const streamName = await newStream(1);
    const producer = newProducer({ client: newClient(), streamName, lingerMs: 60_000, maxBufferedRecords: 3 });

    const started = Date.now();
    for (let index = 0; index < 10; index += 1) {
      await producer.send({ partitionKey: 't', data: `record-${index}` });
    }
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(producer.stats().sent).toBeGreaterThanOrEqual(7);
  });

  it('counts bytes in the buffer too: a second large record waits for the first', async () => {
    const streamName = await newStream(1);
    const client = newClient();
    const gate = gatePutRecords(client);
    const producer = newProducer({ client, streamName, lingerMs: 0, maxBufferedBytes: MiB });

    await producer.send({ partitionKey: 't', data: 'a'.repeat(600 * 1024) });
    const second = producer.send({ partitionKey: 't', data: 'b'.repeat(600 * 1024) });
    expect(await stateAfter(second, 100)).toBe('pending');
    expect(producer.stats().bufferedBytes).toBe(600 * 1024 + 1);

    gate.open();
    await second;
    await producer.flush();
    expect(await kinesis.readAll(streamName)).toHaveLength(2);
  });

  it('hands records that always fail to onFailure, with the reason, the attempts and the same record objects', async () => {
    const streamName = await newStream(1);
    const client = newClient();
    injectPutRecordsFailures(client, { rate: 1 });
    const failures: KinesisRecordFailure<KinesisRecord & { outboxId: number }>[] = [];
    const producer = newProducer<KinesisRecord & { outboxId: number }>({
      client,
      streamName,
      ...FAST_RETRIES,
      maxAttempts: 3,
      onFailure: async (failed) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        failures.push(...failed);
      },
    });

    const records: (KinesisRecord & { outboxId: number })[] = Array.from({ length: 10 }, (_, outboxId) => ({
      partitionKey: `tenant-${outboxId % 3}`,
      data: `event-${outboxId}`,
      outboxId,
    }));
    for (const record of records) {
      await producer.send(record);
    }
    await producer.flush();

    expect(failures).toHaveLength(10);
    expect(failures.map((failure) => failure.record.outboxId).sort((a, b) => a - b)).toEqual(records.map((record) => record.outboxId));
    expect(failures.every((failure) => records.includes(failure.record))).toBe(true);
    for (const failure of failures) {
      expect(failure).toMatchObject({ errorCode: 'ProvisionedThroughputExceededException', errorMessage: expect.stringMatching(/Rate exceeded/), attempts: 3 });
    }
    expect(producer.stats()).toMatchObject({ sent: 0, failed: 10, retried: 20, buffered: 0 });
    expect(await kinesis.readAll(streamName)).toEqual([]);
  });

  it('without onFailure, keeps the records it gave up on and hands them over by rejecting flush()', async () => {
    const streamName = await newStream(1);
    const client = newClient();
    injectPutRecordsFailures(client, { rate: 1, errorCode: 'InternalFailure' });
    const producer = newProducer({ client, streamName, ...FAST_RETRIES, maxAttempts: 2 });

    await producer.send({ partitionKey: 'tenant-1', data: 'lost?' });
    const error: unknown = await producer.flush().catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(KinesisUndeliveredError);
    expect(error).toBeInstanceOf(KinesisProducerError);
    const undelivered = error as KinesisUndeliveredError;
    expect(undelivered.message).toMatch(/1 record\(s\) could not be delivered \(first: InternalFailure: Internal service failure\., after 2 attempt\(s\)\)\. No onFailure handler was given\./);
    expect(undelivered.failures.map((failure) => failure.record.data)).toEqual(['lost?']);
    expect(producer.stats()).toMatchObject({ failed: 1, buffered: 0 });
    await expect(producer.flush()).resolves.toBeUndefined();
  });

  it('keeps the records when onFailure throws, and names the handler error as the cause', async () => {
    const streamName = await newStream(1);
    const client = newClient();
    injectPutRecordsFailures(client, { rate: 1 });
    const spoolDown = new Error('spool disk full');
    const producer = newProducer({
      client,
      streamName,
      ...FAST_RETRIES,
      maxAttempts: 1,
      onFailure: () => {
        throw spoolDown;
      },
    });

    await producer.send({ partitionKey: 'tenant-1', data: 'kept' });
    const attempt = producer.close();
    await expect(attempt).rejects.toThrow(KinesisUndeliveredError);
    await expect(attempt).rejects.toThrow(/onFailure threw: spool disk full/);
    const error = (await attempt.catch((caught: unknown) => caught)) as KinesisUndeliveredError;
    expect(error.cause).toBe(spoolDown);
    expect(error.failures).toHaveLength(1);
  });

  it('retries whole-call failures: records sent before their stream exists arrive once it does', async () => {
    const streamName = `late-${randomUUID().slice(0, 8)}`;
    const client = newClient({ maxAttempts: 1 });
    const producer = newProducer({ client, streamName, baseDelayMs: 20, maxDelayMs: 100, maxAttempts: 100 });

    for (let index = 0; index < 25; index += 1) {
      await producer.send({ partitionKey: `tenant-${index % 5}`, data: `early-${index}` });
    }
    const flushed = producer.flush();
    await vi.waitFor(() => expect(producer.stats().failedCalls).toBeGreaterThan(1), { timeout: 5_000 });
    await kinesis.createStream(streamName, 2);
    await flushed;

    expect(producer.stats()).toMatchObject({ sent: 25, failed: 0 });
    expect(producer.stats().retried).toBeGreaterThanOrEqual(25);
    expect(await kinesis.readAll(streamName)).toHaveLength(25);
  });

  it('hands records to onFailure with the network error when Kinesis cannot be reached', async () => {
    const client = kinesis.client({ endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    clients.push(client);
    const failures: KinesisRecordFailure[] = [];
    const producer = newProducer({ client, streamName: 'nowhere', ...FAST_RETRIES, maxAttempts: 2, onFailure: (failed) => void failures.push(...failed) });

    await producer.send({ partitionKey: 'tenant-1', data: 'unreachable' });
    await producer.flush();

    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ errorCode: 'ECONNREFUSED', attempts: 2 });
    expect(producer.stats()).toMatchObject({ failed: 1, failedCalls: 2, batches: 2 });
  });

  it('does not retry a request Kinesis refuses as invalid', async () => {
    const streamName = await newStream(1);
    const client = newClient();
    // kinesalite refuses ExplicitHashKey 2^128 with InvalidArgumentException; the producer's own check is bypassed here.
    client.middlewareStack.add(
      (next) => (args) => {
        const input = args.input as { Records?: { ExplicitHashKey?: string }[] };
        input.Records?.forEach((record) => {
          record.ExplicitHashKey = (1n << 128n).toString();
        });
        return next(args);
      },
      { step: 'initialize', priority: 'high' },
    );
    const failures: KinesisRecordFailure[] = [];
    const producer = newProducer({ client, streamName, onFailure: (failed) => void failures.push(...failed) });

    await producer.send({ partitionKey: 'tenant-1', data: 'refused' });
    await producer.flush();

    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ errorCode: 'InvalidArgumentException', attempts: 1 });
  });

  it('routes by explicitHashKey when one is given', async () => {
    const streamName = await newStream(2);
    const producer = newProducer({ client: newClient(), streamName, lingerMs: 0 });

    await producer.send({ partitionKey: 'same-key', data: 'low', explicitHashKey: '0' });
    await producer.send({ partitionKey: 'same-key', data: 'high', explicitHashKey: ((1n << 128n) - 1n).toString() });
    await producer.flush();

    const stored = await kinesis.readAll(streamName);
    const shardOf = (text: string) => stored.find((record) => Buffer.from(record.Data ?? new Uint8Array()).toString() === text)?.ShardId;
    expect(shardOf('low')).toBe('shardId-000000000000');
    expect(shardOf('high')).toBe('shardId-000000000001');
  });

  it('sends a lone record after the linger time, without a flush', async () => {
    const streamName = await newStream(1);
    const producer = newProducer({ client: newClient(), streamName, lingerMs: 30 });

    await producer.send({ partitionKey: 'tenant-1', data: 'lingered' });
    expect(producer.stats().batches).toBe(0);
    await vi.waitFor(() => expect(producer.stats().sent).toBe(1), { timeout: 2_000 });
    expect(texts(await kinesis.readAll(streamName))).toEqual(['lingered']);
  });

  it('close() delivers what is buffered without waiting for the linger time, refuses new records, and can be called twice', async () => {
    const streamName = await newStream(1);
    const producer = newProducer({ client: newClient(), streamName, lingerMs: 60_000 });

    await producer.send({ partitionKey: 'tenant-1', data: 'first' });
    await producer.send({ partitionKey: 'tenant-2', data: 'second' });
    const started = Date.now();
    await producer.close();
    await producer.close();

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(texts(await kinesis.readAll(streamName)).sort()).toEqual(['first', 'second']);
    await expect(producer.send({ partitionKey: 'tenant-1', data: 'late' })).rejects.toThrow(KinesisProducerClosedError);
  });

  it('close() lets in the senders that were waiting for room, and delivers them', async () => {
    const streamName = await newStream(1);
    const client = newClient();
    const gate = gatePutRecords(client);
    const producer = newProducer({ client, streamName, lingerMs: 0, maxBufferedRecords: 1 });

    await producer.send({ partitionKey: 't', data: 'in' });
    const waiting = producer.send({ partitionKey: 't', data: 'waiting' });
    const closed = producer.close();
    await expect(producer.send({ partitionKey: 't', data: 'after close' })).rejects.toThrow(KinesisProducerClosedError);
    gate.open();
    await waiting;
    await closed;
    expect(texts(await kinesis.readAll(streamName)).sort()).toEqual(['in', 'waiting']);
  });

  it('flush() waits for the records accepted before it, not for those sent after', async () => {
    const streamName = await newStream(1);
    const client = newClient();
    const producer = newProducer({ client, streamName, lingerMs: 0, maxBatchRecords: 1, maxConcurrentRequests: 1 });

    await producer.send({ partitionKey: 't', data: 'before' });
    const flushed = producer.flush();
    await producer.send({ partitionKey: 't', data: 'after' });
    await flushed;
    expect(producer.stats().sent).toBeGreaterThanOrEqual(1);
    await producer.flush();
    expect(producer.stats().sent).toBe(2);
  });
});

describe('KinesisProducer validation', () => {
  let client: KinesisClient;

  beforeAll(() => {
    client = kinesis.client();
  });

  afterAll(() => {
    client.destroy();
  });

  it.each([
    [{ streamName: undefined }, /streamName is missing: pass the stream name/],
    [{ streamName: 'a b' }, /streamName must be 1 to 128 letters, digits, '_', '\.' or '-', received "a b"/],
    [{ streamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/events' }, /give streamName or streamArn, not both/],
    [{ maxBatchRecords: 501 }, /maxBatchRecords must be an integer from 1 to 500, received 501: Kinesis takes at most 500 records per PutRecords/],
    [{ maxBatchBytes: 6 * MiB }, /maxBatchBytes must be an integer from 1048576 to 5242880, received 6291456/],
    [{ maxBufferedBytes: 1000 }, /maxBufferedBytes must be an integer from 1048576 to .* received 1000: the buffer must fit a 1 MiB record/],
    [{ lingerMs: -1 }, /lingerMs must be an integer from 0 to 60000, received -1/],
    [{ maxAttempts: 0 }, /maxAttempts must be an integer from 1 to 1000, received 0: use 1 to never retry/],
    [{ baseDelayMs: 500, maxDelayMs: 100 }, /maxDelayMs \(100\) is below baseDelayMs \(500\)/],
  ])('refuses %j, saying what it received and what to do', (override, message) => {
    const create = () => new KinesisProducer({ client, streamName: 'events', ...override });
    expect(create).toThrow(KinesisProducerValidationError);
    expect(create).toThrow(message);
  });

  it('accepts a stream ARN instead of a name', () => {
    expect(() => new KinesisProducer({ client, streamArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/central-events' })).not.toThrow();
  });

  it('lists every problem at once', () => {
    expect(() => new KinesisProducer({ client, streamName: 'events', lingerMs: -1, maxAttempts: 0 })).toThrow(/lingerMs must be .*; maxAttempts must be/);
  });

  it('refuses a record over 1 MiB before sending anything, with its size', async () => {
    const producer = newProducer({ client, streamName: 'events' });
    const attempt = producer.send({ partitionKey: 'tenant-1', data: new Uint8Array(MiB) });
    await expect(attempt).rejects.toThrow(KinesisRecordTooLargeError);
    await expect(attempt).rejects.toThrow(
      /the record for partition key "tenant-1" is 1 MiB \(1048584 bytes, partition key and data\), over Kinesis's limit of 1 MiB \(1048576 bytes\)\. Store the payload in S3/,
    );
    const error = (await attempt.catch((caught: unknown) => caught)) as KinesisRecordTooLargeError;
    expect(error.bytes).toBe(MiB + 8);
    expect(error).toBeInstanceOf(KinesisProducerValidationError);
    expect(producer.stats()).toMatchObject({ buffered: 0, batches: 0 });
  });

  it('counts multi-byte characters as UTF-8 bytes', async () => {
    const producer = newProducer({ client, streamName: 'events' });
    // 350,000 three-byte characters: 1,050,000 bytes, although the string is shorter than 1 MiB.
    await expect(producer.send({ partitionKey: 't', data: '€'.repeat(350_000) })).rejects.toThrow(KinesisRecordTooLargeError);
  });

  it.each([
    [{ partitionKey: '', data: 'x' }, /partitionKey must be a string of 1 to 256 characters, received ""\. Use the tenant id\./],
    [{ partitionKey: 'k'.repeat(257), data: 'x' }, /partitionKey must be a string of 1 to 256 characters/],
    [{ partitionKey: 't', data: 42 }, /data must be a string or a Uint8Array, received 42\. Serialize the event first/],
    [{ partitionKey: 't', data: { id: 1 } }, /data must be a string or a Uint8Array, received \{"id":1\}/],
    [{ partitionKey: 't', data: 'x', explicitHashKey: '-1' }, /explicitHashKey must be a decimal integer from 0 to 2\^128 - 1, received "-1"/],
    [{ partitionKey: 't', data: 'x', explicitHashKey: (1n << 128n).toString() }, /explicitHashKey must be a decimal integer/],
  ])('refuses the record %j', async (record, message) => {
    const producer = newProducer({ client, streamName: 'events' });
    const attempt = producer.send(record as unknown as KinesisRecord);
    await expect(attempt).rejects.toThrow(KinesisProducerValidationError);
    await expect(attempt).rejects.toThrow(message);
  });
});
