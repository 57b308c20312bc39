import { randomUUID } from 'node:crypto';
import { CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localKinesisClientConfig, startLocalKinesis, type LocalKinesis } from '../../local-cloud/index.js';
import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/database.js';
import { BACKENDS, createTestDatabase, dropTestDatabase } from '../testing/databases.js';
import { TenantService } from '../tenant-manager/tenant-service.js';
import { OutboxRelay, OutboxRelayError } from './outbox-relay.js';

const onboarding: Principal = { kind: 'platform', subject: 'test', role: 'onboarding' };

let kinesis: LocalKinesis;
let client: KinesisClient;

beforeAll(async () => {
  kinesis = await startLocalKinesis({ transitionMs: 0 });
  client = new KinesisClient(localKinesisClientConfig(kinesis));
});
afterAll(async () => {
  client.destroy();
  await kinesis.stop();
});

async function createStream(name: string): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 2 }));
  for (;;) {
    const described = await client.send(new DescribeStreamCommand({ StreamName: name }));
    if (described.StreamDescription?.StreamStatus === 'ACTIVE') return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every event id on the stream, in no particular order, with repeats kept. */
async function eventIdsOnStream(name: string): Promise<string[]> {
  const ids: string[] = [];
  const shards = await client.send(new ListShardsCommand({ StreamName: name }));
  for (const shard of shards.Shards ?? []) {
    const start = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const page = await client.send(new GetRecordsCommand({ ShardIterator: start.ShardIterator, Limit: 10_000 }));
    for (const record of page.Records ?? []) ids.push((JSON.parse(Buffer.from(record.Data ?? []).toString('utf8')) as { id: string }).id);
  }
  return ids;
}

async function pendingEventIds(db: Database): Promise<string[]> {
  const rows = await db.knex<{ event_id: string }>('outbox').whereNull('published_at').select('event_id');
  return rows.map((row) => row.event_id);
}

async function allEventIds(db: Database): Promise<string[]> {
  const rows = await db.knex<{ event_id: string }>('outbox').select('event_id');
  return rows.map((row) => row.event_id).sort();
}

async function registerTenants(db: Database, count: number): Promise<void> {
  const service = new TenantService(db);
  for (let i = 0; i < count; i++) {
    await service.register(onboarding, randomUUID(), { name: `relay-${randomUUID().slice(0, 8)}`, plan: 'basic', adminEmail: `admin${i}@example.com` });
  }
}

describe.each(BACKENDS)('OutboxRelay on %s', (backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase(backend);
    await new TenantService(db).syncPlans();
  });
  afterAll(async () => {
    await dropTestDatabase(db);
  });

  it('puts every pending event on the stream once and marks it published', async () => {
    const stream = `relay-${randomUUID()}`;
    await createStream(stream);
    await registerTenants(db, 5);
    const pending = await pendingEventIds(db);
    expect(pending.length).toBeGreaterThanOrEqual(10);

    const relay = new OutboxRelay({ db, kinesis: client, streamName: stream, batchSize: 4 });
    let rounds = 0;
    while ((await relay.relayOnce()).published > 0) rounds++;
    await relay.stop();

    expect(rounds).toBe(Math.ceil(pending.length / 4));
    expect(await pendingEventIds(db)).toEqual([]);
    expect((await eventIdsOnStream(stream)).sort()).toEqual(await allEventIds(db));
  });

  it('leaves events pending while the stream is missing, and sends them once it exists', async () => {
    const stream = `relay-late-${randomUUID()}`;
    await db.knex('outbox').update({ published_at: new Date() });
    await registerTenants(db, 3);
    const pending = (await pendingEventIds(db)).sort();

    const relay = new OutboxRelay({ db, kinesis: client, streamName: stream, maxAttempts: 1 });
    expect(await relay.relayOnce()).toEqual({ published: 0, failed: pending.length });
    expect((await pendingEventIds(db)).sort()).toEqual(pending);

    await createStream(stream);
    expect(await relay.relayOnce()).toEqual({ published: pending.length, failed: 0 });
    await relay.stop();
    expect(await pendingEventIds(db)).toEqual([]);
    expect((await eventIdsOnStream(stream)).sort()).toEqual(pending);
  });
});

// PGlite serves one connection at a time, so concurrent relays only contend on the Postgres server.
describe('OutboxRelay on postgres, several at once', () => {
  let db: Database;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await new TenantService(db).syncPlans();
  });
  afterAll(async () => {
    await dropTestDatabase(db);
  });

  it('shares the outbox between concurrent relays without sending an event twice', async () => {
    const stream = `relay-shared-${randomUUID()}`;
    await createStream(stream);
    await db.knex('outbox').update({ published_at: new Date() });
    await registerTenants(db, 20);
    const pending = (await pendingEventIds(db)).sort();

    const relays = [1, 2, 3].map(() => new OutboxRelay({ db, kinesis: client, streamName: stream, batchSize: 5, idleDelayMs: 10 }));
    for (const relay of relays) relay.start();
    while ((await pendingEventIds(db)).length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all(relays.map((relay) => relay.stop()));

    expect((await eventIdsOnStream(stream)).sort()).toEqual(pending);
  });
});

describe('OutboxRelay props', () => {
  it('refuses a batch size Postgres or Kinesis cannot serve', () => {
    expect(() => new OutboxRelay({ db: {} as Database, kinesis: client, streamName: 's', batchSize: 0 })).toThrow(OutboxRelayError);
    expect(() => new OutboxRelay({ db: {} as Database, kinesis: client, streamName: 's', batchSize: 0 })).toThrow(/batchSize must be an integer from 1 to 10000; received 0/);
  });
});
