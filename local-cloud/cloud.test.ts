import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { CognitoIdentityProviderClient, ListUserPoolsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  ensureKitUserPool,
  LOCAL_CLOUD_FOLDERS,
  localCognitoClientConfig,
  localDynamoDbClientConfig,
  localKinesisClientConfig,
  localS3ClientConfig,
  LocalCloudStartError,
  LocalCloudValidationError,
  startLocalCloud,
  type LocalCloud,
} from './index.js';

/** Creates one thing in every service, through the official SDK clients. */
async function seed(cloud: LocalCloud): Promise<void> {
  const kinesis = new KinesisClient(localKinesisClientConfig(cloud.kinesis));
  const s3 = new S3Client(localS3ClientConfig(cloud.s3));
  const dynamoDb = new DynamoDBClient(localDynamoDbClientConfig(cloud.dynamoDb));
  try {
    await Promise.all([
      ensureKitUserPool(cloud.cognito),
      kinesis.send(new CreateStreamCommand({ StreamName: 'telemetry', ShardCount: 1 })),
      s3.send(new CreateBucketCommand({ Bucket: 'analytics' })),
      dynamoDb.send(
        new CreateTableCommand({
          TableName: 'leases',
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: 'shardId', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'shardId', KeyType: 'HASH' }],
        }),
      ),
    ]);
  } finally {
    kinesis.destroy();
    s3.destroy();
    dynamoDb.destroy();
  }
}

/** What exists in every service, listed through the official SDK clients. */
async function inventory(cloud: LocalCloud): Promise<Record<string, string[]>> {
  const cognito = new CognitoIdentityProviderClient(localCognitoClientConfig(cloud.cognito));
  const kinesis = new KinesisClient(localKinesisClientConfig(cloud.kinesis));
  const s3 = new S3Client(localS3ClientConfig(cloud.s3));
  const dynamoDb = new DynamoDBClient(localDynamoDbClientConfig(cloud.dynamoDb));
  try {
    const [pools, streams, buckets, tables] = await Promise.all([
      cognito.send(new ListUserPoolsCommand({ MaxResults: 10 })),
      kinesis.send(new ListStreamsCommand({})),
      s3.send(new ListBucketsCommand({})),
      dynamoDb.send(new ListTablesCommand({})),
    ]);
    return {
      pools: (pools.UserPools ?? []).map((pool) => pool.Name ?? ''),
      streams: streams.StreamNames ?? [],
      buckets: (buckets.Buckets ?? []).map((bucket) => bucket.Name ?? ''),
      tables: tables.TableNames ?? [],
    };
  } finally {
    cognito.destroy();
    kinesis.destroy();
    s3.destroy();
    dynamoDb.destroy();
  }
}

describe('startLocalCloud', () => {
  let dataDir: string;
  const started: LocalCloud[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'local-cloud-all-'));
  });

  afterAll(async () => {
    await Promise.all(started.map((cloud) => cloud.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('starts the four servers on distinct 127.0.0.1 ports, one data subfolder each, and keeps their data across a restart', async () => {
    const first = await startLocalCloud({ dataDir });
    started.push(first);
    const endpoints = [first.cognito, first.kinesis, first.s3, first.dynamoDb].map((server) => server.endpoint);
    endpoints.forEach((endpoint) => expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/));
    expect(new Set(endpoints).size).toBe(4);
    expect(first.kinesis.dataDir).toBe(path.join(dataDir, 'kinesis'));

    await seed(first);
    const expected = { pools: ['saas-tenancy-kit'], streams: ['telemetry'], buckets: ['analytics'], tables: ['leases'] };
    expect(await inventory(first)).toEqual(expected);
    await first.stop();
    await first.stop();
    Object.values(LOCAL_CLOUD_FOLDERS).forEach((folder) => expect(existsSync(path.join(dataDir, folder))).toBe(true));

    const second = await startLocalCloud({ dataDir });
    started.push(second);
    expect(await inventory(second)).toEqual(expected);
    await second.stop();
  });

  it('keeps nothing without a data folder', async () => {
    const cloud = await startLocalCloud();
    started.push(cloud);
    expect(cloud.kinesis.dataDir).toBeUndefined();
    expect(cloud.dynamoDb.dataDir).toBeUndefined();
    await seed(cloud);
    await cloud.stop();
    expect(existsSync(cloud.s3.dataDir)).toBe(false);
    expect(existsSync(cloud.cognito.dataDir)).toBe(false);
  });

  it('stops the servers that started when one cannot, and says which', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const folder = path.join(dataDir, 'one-fails');
    try {
      const attempt = startLocalCloud({ dataDir: folder, ports: { s3: port } });
      await expect(attempt).rejects.toThrow(LocalCloudStartError);
      await expect(attempt).rejects.toThrow(new RegExp(`s3 did not start \\(s3rver could not listen on 127\\.0\\.0\\.1:${port}.*The servers that had started were stopped\\.`));
    } finally {
      blocker.close();
    }
    // The LevelDB folders are free again: the servers that had started were stopped.
    const cloud = await startLocalCloud({ dataDir: folder });
    started.push(cloud);
    await cloud.stop();
  });

  it('rejects ports of servers it does not know, listing the ones it does', async () => {
    const attempt = startLocalCloud({ ports: { sqs: 1234 } as never });
    await expect(attempt).rejects.toThrow(LocalCloudValidationError);
    await expect(attempt).rejects.toThrow('startLocalCloud: ports names unknown servers (sqs). Use cognito, kinesis, s3, dynamoDb.');
  });

  it('reports a bad port as a validation error', async () => {
    await expect(startLocalCloud({ ports: { kinesis: 1.5 } })).rejects.toThrow(LocalCloudValidationError);
  });
});
