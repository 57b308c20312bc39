import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { ConditionalCheckFailedException, CreateTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LocalCloudStartError, LocalCloudValidationError, localDynamoDbClientConfig, startLocalDynamoDb, type LocalDynamoDb } from './index.js';

async function withDocumentClient<T>(dynamoDb: LocalDynamoDb, use: (client: DynamoDBDocumentClient) => Promise<T>): Promise<T> {
  const client = new DynamoDBClient(localDynamoDbClientConfig(dynamoDb));
  try {
    return await use(DynamoDBDocumentClient.from(client));
  } finally {
    client.destroy();
  }
}

/** A jobs table shaped like the Job Manager's: tenant as partition key, job id as sort key. */
async function createJobsTable(client: DynamoDBDocumentClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: 'jobs',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'tenantId', AttributeType: 'S' },
        { AttributeName: 'jobId', AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: 'tenantId', KeyType: 'HASH' },
        { AttributeName: 'jobId', KeyType: 'RANGE' },
      ],
    }),
  );
}

describe('local DynamoDB (dynalite)', () => {
  let dynamoDb: LocalDynamoDb;

  beforeAll(async () => {
    dynamoDb = await startLocalDynamoDb();
    await withDocumentClient(dynamoDb, createJobsTable);
  });

  afterAll(async () => {
    await dynamoDb?.stop();
  });

  it('listens on 127.0.0.1, keeps its data in memory and names the region', () => {
    expect(dynamoDb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dynamoDb.region).toBe('us-east-1');
    expect(dynamoDb.dataDir).toBeUndefined();
  });

  it('puts, gets and queries items through lib-dynamodb', async () => {
    await withDocumentClient(dynamoDb, async (client) => {
      const job = { tenantId: 't-1', jobId: 'j-1', state: 'SUBMITTED', steps: ['load', 'transform'], vcpu: 2 };
      await client.send(new PutCommand({ TableName: 'jobs', Item: job }));
      await client.send(new PutCommand({ TableName: 'jobs', Item: { ...job, jobId: 'j-2' } }));
      await client.send(new PutCommand({ TableName: 'jobs', Item: { ...job, tenantId: 't-2' } }));

      expect((await client.send(new GetCommand({ TableName: 'jobs', Key: { tenantId: 't-1', jobId: 'j-1' } }))).Item).toEqual(job);
      const own = await client.send(new QueryCommand({ TableName: 'jobs', KeyConditionExpression: 'tenantId = :t', ExpressionAttributeValues: { ':t': 't-1' } }));
      expect(own.Items?.map((item) => String(item['jobId']))).toEqual(['j-1', 'j-2']);
    });
  });

  it('enforces conditional writes (state transitions)', async () => {
    await withDocumentClient(dynamoDb, async (client) => {
      await client.send(new PutCommand({ TableName: 'jobs', Item: { tenantId: 't-3', jobId: 'j-1', state: 'SUBMITTED' } }));
      const transition = (from: string, to: string) =>
        client.send(
          new UpdateCommand({
            TableName: 'jobs',
            Key: { tenantId: 't-3', jobId: 'j-1' },
            UpdateExpression: 'SET #state = :to',
            ConditionExpression: '#state = :from',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':from': from, ':to': to },
          }),
        );
      await transition('SUBMITTED', 'RUNNING');
      await expect(transition('SUBMITTED', 'RUNNING')).rejects.toThrow(ConditionalCheckFailedException);
    });
  });
});

describe('local DynamoDB lifecycle', () => {
  let dataDir: string;
  const started: LocalDynamoDb[] = [];
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'local-dynamodb-test-'));
  });

  afterAll(async () => {
    children.forEach((child) => child.kill());
    await Promise.all(started.map((dynamoDb) => dynamoDb.stop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps tables and items when restarted on the same data folder', async () => {
    const folder = path.join(dataDir, 'restart');
    const first = await startLocalDynamoDb({ dataDir: folder });
    started.push(first);
    expect(first.dataDir).toBe(folder);
    await withDocumentClient(first, async (client) => {
      await createJobsTable(client);
      await client.send(new PutCommand({ TableName: 'jobs', Item: { tenantId: 't-1', jobId: 'kept', bytes: 42 } }));
    });
    await first.stop();

    const second = await startLocalDynamoDb({ dataDir: folder });
    started.push(second);
    await withDocumentClient(second, async (client) => {
      expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual(['jobs']);
      expect((await client.send(new GetCommand({ TableName: 'jobs', Key: { tenantId: 't-1', jobId: 'kept' } }))).Item).toEqual({
        tenantId: 't-1',
        jobId: 'kept',
        bytes: 42,
      });
    });
    await expect(startLocalDynamoDb({ dataDir: folder })).rejects.toThrow(/already used by a running local server of this process/);
  });

  it('refuses a folder another process holds, instead of leaving dynalite unanswering', async () => {
    const folder = path.join(dataDir, 'held');
    const child = spawn(
      process.execPath,
      ['-e', `const { Level } = require('level'); new Level(${JSON.stringify(folder)}).open().then(() => { console.log('ready'); setInterval(() => {}, 1000); })`],
      { cwd: path.dirname(import.meta.dirname), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    await once(child.stdout, 'data');

    const attempt = startLocalDynamoDb({ dataDir: folder });
    await expect(attempt).rejects.toThrow(LocalCloudStartError);
    await expect(attempt).rejects.toThrow(/dynalite could not open its data in .*held/s);
  });

  it('stop can be called twice', async () => {
    const dynamoDb = await startLocalDynamoDb();
    started.push(dynamoDb);
    await dynamoDb.stop();
    await dynamoDb.stop();
  });

  it('rejects a bad transition time, saying what it received', async () => {
    const attempt = startLocalDynamoDb({ transitionMs: -5 });
    await expect(attempt).rejects.toThrow(LocalCloudValidationError);
    await expect(attempt).rejects.toThrow(/transitionMs must be a whole number of milliseconds from 0 to 3600000, received -5/);
  });
});
