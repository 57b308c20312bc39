import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEvent } from '../events.js';
import { injectPutRecordsFailures } from '../private/testing/kinesis-faults.js';
import { startTestKinesis, type TestKinesis } from '../private/testing/local-kinesis.js';
import { JobStoreValidationError } from './errors.js';
import { placementFor } from './model.js';
import { JobOutboxRelay } from './job-outbox-relay.js';
import { JOBS_TABLE, OUTBOX_SHARDS } from './table.js';
import { startTestJobStore, type TestJobStore } from './testing/local-store.js';

let store: TestJobStore;
let kinesis: TestKinesis;

beforeAll(async () => {
  [store, kinesis] = await Promise.all([startTestJobStore(), startTestKinesis()]);
});
afterAll(async () => {
  await Promise.all([store?.stop(), kinesis?.stop()]);
});

async function itemsInOutbox(table: string): Promise<number> {
  let count = 0;
  for (let shard = 0; shard < OUTBOX_SHARDS; shard += 1) {
    const result = await store.client.send(
      new QueryCommand({ TableName: table, IndexName: JOBS_TABLE.outboxIndex.name, KeyConditionExpression: 'outboxShard = :s', ExpressionAttributeValues: { ':s': `OUTBOX#${shard}` } }),
    );
    count += result.Items?.length ?? 0;
  }
  return count;
}

describe('JobOutboxRelay', () => {
  it('keeps events while the stream is unavailable, then delivers each exactly once through failing PutRecords entries', async () => {
    const table = await store.newTable();
    const repo = store.repository(table);
    const expected = new Map<string, number>();
    const count = (key: string) => expected.set(key, (expected.get(key) ?? 0) + 1);
    for (let t = 0; t < 6; t += 1) {
      const tenantId = randomUUID();
      await repo.registerObject(tenantId, { key: 'raw/a.csv', bytes: 10 + t, contentType: 'text/csv' });
      count(`${tenantId} datalake.object.uploaded`);
      for (let j = 0; j < 8; j += 1) {
        // Mostly tenant users, whose id job.submitted carries; now and then a platform operator (no user).
        const userId = j % 3 === 0 ? null : randomUUID();
        const { job } = await repo.submitJob({
          tenantId,
          submittedBy: userId ?? 'operator',
          userId,
          idempotencyKey: randomUUID(),
          requestHash: 'h',
          steps: ['load'],
          inputDatasetId: null,
          requestedVcpu: 1,
          placement: placementFor('pool', `t${t}`),
        });
        count(`${job.jobId} job.submitted by ${userId ?? 'no user'}`);
        if (j % 2 === 0) {
          await repo.requestCancel(tenantId, job.jobId);
          count(`${job.jobId} job.cancelled`);
        }
      }
    }
    const total = [...expected.values()].reduce((a, b) => a + b, 0);

    // The stream does not exist yet: every pass fails, and the events stay where they are.
    const stream = `late-${randomUUID().slice(0, 8)}`;
    const client = kinesis.client();
    const relay = new JobOutboxRelay({ client: store.client, tableName: table, kinesis: client, streamName: stream, maxAttempts: 2, baseDelayMs: 1 });
    for (let pass = 0; pass < 2; pass += 1) {
      expect(await relay.runOnce()).toEqual({ pending: total, delivered: 0, failed: total });
    }
    expect(await itemsInOutbox(table)).toBe(6 + 48);

    // The stream comes up, and a third of the entries of every PutRecords call fail for a while.
    await kinesis.createStream(stream, 2);
    const faults = injectPutRecordsFailures(client, { rate: 0.3 });
    let delivered = 0;
    for (let pass = 0; pass < 30 && delivered < total; pass += 1) delivered += (await relay.runOnce()).delivered;
    expect(faults.injected).toBeGreaterThan(0);
    expect(delivered).toBe(total);
    expect(await relay.runOnce()).toEqual({ pending: 0, delivered: 0, failed: 0 });
    expect(await itemsInOutbox(table)).toBe(0);

    const seen = new Map<string, number>();
    const ids = new Set<string>();
    for (const record of await kinesis.readAll(stream)) {
      const parsed = parseEvent(record.Data ?? new Uint8Array());
      if (!parsed.ok) throw new Error(parsed.detail);
      ids.add(parsed.event.id);
      const subjectOrJob = 'jobId' in parsed.event.data ? parsed.event.data.jobId : parsed.event.subject;
      const submitter = parsed.event.type === 'job.submitted' ? ` by ${parsed.event.data.userId ?? 'no user'}` : '';
      const key = `${subjectOrJob} ${parsed.event.type}${submitter}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    expect(ids.size).toBe(total);
    expect(seen).toEqual(expected);
    expect(relay.stats()).toMatchObject({ delivered: total });
    client.destroy();
  });

  it('relays a second event of an item after the first, and never runs two passes at once', async () => {
    const table = await store.newTable();
    const repo = store.repository(table);
    const stream = `s-${randomUUID().slice(0, 8)}`;
    await kinesis.createStream(stream, 1);
    const client = kinesis.client();
    const relay = new JobOutboxRelay({ client: store.client, tableName: table, kinesis: client, streamName: stream });
    const tenantId = randomUUID();
    await repo.registerObject(tenantId, { key: 'k', bytes: 1, contentType: 'text/plain' });
    // Two passes asked for at once run one after the other: the second finds nothing left.
    const passes = await Promise.all([relay.runOnce(), relay.runOnce()]);
    expect(passes.map((pass) => pass.delivered)).toEqual([1, 0]);
    // The same item gets a second event after the first left: it is relayed too.
    await repo.registerObject(tenantId, { key: 'k', bytes: 2, contentType: 'text/plain' });
    expect((await relay.runOnce()).delivered).toBe(1);
    const sizes = (await kinesis.readAll(stream)).map((record) => (JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')) as { data: { bytes: number } }).data.bytes);
    expect(sizes).toEqual([1, 2]);
    client.destroy();
  });

  it('refuses settings it cannot use, saying which', () => {
    const client = kinesis.client();
    expect(() => new JobOutboxRelay({ client: store.client, tableName: 't', kinesis: client, streamName: 's', itemsPerShard: 0 })).toThrow(JobStoreValidationError);
    expect(() => new JobOutboxRelay({ client: store.client, tableName: 't', kinesis: client, streamName: 's', idleMs: -1 })).toThrow(/idleMs/);
    client.destroy();
  });
});
