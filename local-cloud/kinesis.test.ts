import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalCloudStartError, LocalCloudValidationError, localKinesisClientConfig, startLocalKinesis, type LocalKinesis } from './index.js';

async function withClient<T>(kinesis: LocalKinesis, use: (client: KinesisClient) => Promise<T>): Promise<T> {
  const client = new KinesisClient(localKinesisClientConfig(kinesis));
  try {
    return await use(client);
  } finally {
    client.destroy();
  }
}

/** Every record of every shard of the stream, as text, read from TRIM_HORIZON. */
async function readAll(client: KinesisClient, streamName: string): Promise<string[]> {
  const shards = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const texts: string[] = [];
  for (const shard of shards.Shards ?? []) {
    const start = await client.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    let iterator = start.ShardIterator;
    while (iterator !== undefined) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      texts.push(...(page.Records ?? []).map((record) => Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')));
      iterator = (page.Records ?? []).length === 0 && page.MillisBehindLatest === 0 ? undefined : page.NextShardIterator;
    }
  }
  return texts;
}

async function putTexts(client: KinesisClient, streamName: string, texts: readonly string[]): Promise<void> {
  const result = await client.send(
    new PutRecordsCommand({ StreamName: streamName, Records: texts.map((text, index) => ({ PartitionKey: `tenant-${index % 7}`, Data: Buffer.from(text) })) }),
  );
  expect(result.FailedRecordCount).toBe(0);
}

describe('local Kinesis (kinesalite)', () => {
  let kinesis: LocalKinesis;

  beforeAll(async () => {
    kinesis = await startLocalKinesis();
  });

  afterAll(async () => {
    await kinesis?.stop();
  });

  it('listens on 127.0.0.1, keeps its data in memory and names the region', () => {
    expect(kinesis.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(kinesis.region).toBe('us-east-1');
    expect(kinesis.dataDir).toBeUndefined();
  });

  it('answers the SDK v3 client: a stream is ACTIVE at once, and PutRecords lands in GetRecords of its shards', async () => {
    await withClient(kinesis, async (client) => {
      await client.send(new CreateStreamCommand({ StreamName: 'events', ShardCount: 3 }));
      const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: 'events' }));
      expect(summary.StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
      expect(summary.StreamDescriptionSummary?.OpenShardCount).toBe(3);

      const texts = Array.from({ length: 200 }, (_, index) => `record-${index}`);
      await putTexts(client, 'events', texts);
      expect((await readAll(client, 'events')).sort()).toEqual([...texts].sort());
    });
  });

  it('allows many shards (shardLimit 1000 by default)', async () => {
    await withClient(kinesis, async (client) => {
      await client.send(new CreateStreamCommand({ StreamName: 'wide', ShardCount: 50 }));
      const shards = await client.send(new ListShardsCommand({ StreamName: 'wide' }));
      expect(shards.Shards).toHaveLength(50);
    });
  });

  it('refuses a port that is taken', async () => {
    const port = Number(new URL(kinesis.endpoint).port);
    await expect(startLocalKinesis({ port })).rejects.toThrow(LocalCloudStartError);
  });
});

describe('local Kinesis lifecycle', () => {
  let dataDir: string;
  const started: LocalKinesis[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'local-kinesis-test-'));
  });

  afterAll(async () => {
    children.forEach((child) => child.kill());
    await Promise.all(started.map((kinesis) => kinesis.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps streams and records when restarted on the same data folder', async () => {
    const folder = path.join(dataDir, 'restart');
    const first = await startLocalKinesis({ dataDir: folder });
    started.push(first);
    expect(first.dataDir).toBe(folder);
    await withClient(first, async (client) => {
      await client.send(new CreateStreamCommand({ StreamName: 'kept', ShardCount: 2 }));
      await putTexts(client, 'kept', ['one', 'two', 'three']);
    });
    await first.stop();

    const second = await startLocalKinesis({ dataDir: folder });
    started.push(second);
    await withClient(second, async (client) => {
      expect((await client.send(new ListStreamsCommand({}))).StreamNames).toEqual(['kept']);
      expect((await readAll(client, 'kept')).sort()).toEqual(['one', 'three', 'two']);
    });
    await second.stop();
  });

  it('refuses a second server on a folder in use, and starts once it is free', async () => {
    const folder = path.join(dataDir, 'shared');
    const first = await startLocalKinesis({ dataDir: folder });
    started.push(first);
    await expect(startLocalKinesis({ dataDir: folder })).rejects.toThrow(/already used by a running local server of this process/);
    await first.stop();
    const second = await startLocalKinesis({ dataDir: folder });
    started.push(second);
    await second.stop();
  });

  it('refuses a folder another process holds, instead of crashing on kinesalite\'s uncaught lock error', async () => {
    const folder = path.join(dataDir, 'held');
    const child = spawn(
      process.execPath,
      ['-e', `require('leveldown')(${JSON.stringify(folder)}).open((e) => { if (e) throw e; console.log('ready'); setInterval(() => {}, 1000); })`],
      { cwd: path.dirname(import.meta.dirname), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    await once(child.stdout, 'data');

    const attempt = startLocalKinesis({ dataDir: folder });
    await expect(attempt).rejects.toThrow(LocalCloudStartError);
    await expect(attempt).rejects.toThrow(/could not open its data in .*held.*lock/s);
  });

  it('stop can be called twice, and the endpoint is closed after it', async () => {
    const kinesis = await startLocalKinesis();
    started.push(kinesis);
    await kinesis.stop();
    await kinesis.stop();
    const client = new KinesisClient({ ...localKinesisClientConfig(kinesis), maxAttempts: 1 });
    try {
      await expect(client.send(new ListStreamsCommand({}))).rejects.toThrow(/ECONNREFUSED/);
    } finally {
      client.destroy();
    }
  });

  it('gives back a taken port it could not listen on, and frees the folder', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const folder = path.join(dataDir, 'port-taken');
    try {
      await expect(startLocalKinesis({ port, dataDir: folder })).rejects.toThrow(new RegExp(`could not listen on 127\\.0\\.0\\.1:${port}`));
    } finally {
      blocker.close();
    }
    const kinesis = await startLocalKinesis({ dataDir: folder });
    started.push(kinesis);
    await kinesis.stop();
  });

  it.each([
    [{ port: -1 }, /port must be an integer from 0 to 65535, received -1/],
    [{ dataDir: ' ' }, /dataDir is " "\. Pass a folder path/],
    [{ transitionMs: 1.5 }, /transitionMs must be a whole number of milliseconds .* received 1\.5/],
    [{ shardLimit: 0 }, /shardLimit must be a positive integer, received 0/],
  ])('rejects %j, saying what it received', async (options, message) => {
    const attempt = startLocalKinesis(options);
    await expect(attempt).rejects.toThrow(LocalCloudValidationError);
    await expect(attempt).rejects.toThrow(message);
  });

  it('client config refuses an endpoint that is not a URL', () => {
    expect(() => localKinesisClientConfig({ endpoint: 'localhost:4567', region: 'us-east-1' })).toThrow(
      /localKinesisClientConfig: endpoint must be an http\(s\) URL, received "localhost:4567"/,
    );
  });
});
